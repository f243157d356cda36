{{/* The host the Istio proxies call: the Service, or the ServiceEntry's local name. */}}
{{- define "tokengate.istio.host" -}}
{{- if eq .Values.mode "sidecar" }}
{{- .Values.mesh.istio.sidecarHost }}
{{- else }}
{{- include "tokengate.serviceHost" . }}
{{- end }}
{{- end }}

{{/* One item of Istio's meshConfig.extensionProviders. */}}
{{- define "tokengate.istio.extensionProvider" -}}
- name: {{ .Values.mesh.istio.providerName }}
  envoyExtAuthzGrpc:
    service: {{ include "tokengate.istio.host" . }}
    port: {{ .Values.ports.grpc }}
    timeout: {{ .Values.mesh.istio.timeout }}
    failOpen: false
    statusOnError: "503"
{{- end }}
