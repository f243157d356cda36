{{/* The ext_authz HTTP filter, one item of an HttpConnectionManager's http_filters. */}}
{{- define "tokengate.envoy.filter" -}}
- name: envoy.filters.http.ext_authz
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
    transport_api_version: V3
    grpc_service:
      envoy_grpc: { cluster_name: tokengate }
      timeout: {{ .Values.mesh.envoy.timeout }}
    failure_mode_allow: false
    include_peer_certificate: true
    status_on_error: { code: {{ .Values.mesh.envoy.statusOnError }} }
{{- end }}

{{/* The "tokengate" cluster, one item of static_resources.clusters. */}}
{{- define "tokengate.envoy.cluster" -}}
- name: tokengate
  {{- if eq .Values.mode "sidecar" }}
  type: STATIC
  {{- else }}
  {{- /* The headless Service lists every ready pod, so Envoy spreads checks over all of them. */}}
  type: STRICT_DNS
  {{- end }}
  connect_timeout: 1s
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      explicit_http_config:
        http2_protocol_options: {}
  load_assignment:
    cluster_name: tokengate
    endpoints:
      - lb_endpoints:
          - endpoint:
              address:
                {{- if and (eq .Values.mode "sidecar") .Values.sidecar.unixSocket }}
                pipe: { path: {{ printf "%s/grpc.sock" .Values.sidecar.socketDir }} }
                {{- else if eq .Values.mode "sidecar" }}
                socket_address: { address: 127.0.0.1, port_value: {{ .Values.ports.grpc }} }
                {{- else }}
                socket_address: { address: {{ include "tokengate.headlessHost" . }}, port_value: {{ .Values.ports.grpc }} }
                {{- end }}
{{- end }}

{{/* The per-route ext_authz settings of one entry of mesh.envoy.routes. */}}
{{- define "tokengate.envoy.perRoute" -}}
{{- if .checkDisabled }}
typed_per_filter_config:
  envoy.filters.http.ext_authz:
    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
    disabled: true
{{- else if or .policy .contextExtensions }}
{{- $extensions := deepCopy (default dict .contextExtensions) }}
{{- if .policy }}
{{- $_ := set $extensions "tokengate.policy" .policy }}
{{- end }}
typed_per_filter_config:
  envoy.filters.http.ext_authz:
    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
    check_settings:
      context_extensions:
        {{- toYaml $extensions | nindent 8 }}
{{- end }}
{{- end }}

{{/* A complete Envoy bootstrap: one listener that asks tokengate before routing upstream. */}}
{{- define "tokengate.envoy.config" -}}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }
static_resources:
  listeners:
    - name: ingress
      address:
        socket_address: { address: 0.0.0.0, port_value: {{ .Values.mesh.envoy.listenerPort }} }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                generate_request_id: true
                {{- if .Values.mesh.envoy.accessLog }}
                # One JSON line per request on stdout; decision_id joins it to tokengate's audit line.
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      log_format:
                        json_format:
                          request_id: "%REQ(X-REQUEST-ID)%"
                          method: "%REQ(:METHOD)%"
                          status: "%RESPONSE_CODE%"
                          decision_id: "%DYNAMIC_METADATA(envoy.filters.http.ext_authz:decision_id)%"
                {{- end }}
                route_config:
                  name: local
                  virtual_hosts:
                    - name: app
                      domains: ["*"]
                      routes:
                        {{- range .Values.mesh.envoy.routes }}
                        - match:
                            {{- toYaml .match | nindent 28 }}
                          {{- if .directResponse }}
                          direct_response:
                            status: {{ .directResponse.status }}
                            body: { inline_string: {{ .directResponse.body | quote }} }
                          {{- else }}
                          route: { cluster: upstream }
                          {{- end }}
                          {{- with include "tokengate.envoy.perRoute" . | trim }}
                          {{- . | nindent 26 }}
                          {{- end }}
                        {{- end }}
                http_filters:
                  {{- include "tokengate.envoy.filter" . | nindent 18 }}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    {{- include "tokengate.envoy.cluster" . | nindent 4 }}
    - name: upstream
      type: STRICT_DNS
      connect_timeout: 1s
      load_assignment:
        cluster_name: upstream
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: {{ .Values.mesh.envoy.upstream.address }}, port_value: {{ .Values.mesh.envoy.upstream.port }} }
{{- end }}
