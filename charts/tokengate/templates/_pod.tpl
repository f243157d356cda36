{{/* The tokengate container, as one list item of a pod's containers. */}}
{{- define "tokengate.container" -}}
- name: tokengate
  image: {{ include "tokengate.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [serve, --config, /etc/tokengate/tokengate.yaml]
  ports:
    {{- if not (and (eq .Values.mode "sidecar") .Values.sidecar.unixSocket) }}
    - name: grpc
      containerPort: {{ .Values.ports.grpc }}
      protocol: TCP
    {{- end }}
    - name: http
      containerPort: {{ .Values.ports.http }}
      protocol: TCP
    {{- with include "tokengate.adminPort" . }}
    - name: admin
      containerPort: {{ . }}
      protocol: TCP
    {{- end }}
  {{- $redisCa := and .Values.redis.enabled .Values.redis.tls.enabled .Values.redis.tls.caSecret }}
  {{- if or .Values.extraEnv $redisCa }}
  env:
    {{- if $redisCa }}
    {{- /* Node adds these roots to its own for every TLS connection, Redis's included. */}}
    - name: NODE_EXTRA_CA_CERTS
      value: {{ include "tokengate.secretDir" . }}/redis-ca/{{ .Values.redis.tls.caKey }}
    {{- end }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- if eq .Values.mode "sidecar" }}
  {{- /* A sidecar listens on loopback or a socket, which the kubelet cannot reach. */}}
  readinessProbe:
    httpGet: { path: /readyz, port: http }
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  livenessProbe:
    httpGet: { path: /healthz, port: http }
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  startupProbe:
    httpGet: { path: /healthz, port: http }
    {{- toYaml .Values.probes.startup | nindent 4 }}
  {{- else }}
  readinessProbe:
    grpc: { port: {{ .Values.ports.grpc }}, service: "" }
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  livenessProbe:
    grpc: { port: {{ .Values.ports.grpc }}, service: tokengate.liveness }
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  startupProbe:
    grpc: { port: {{ .Values.ports.grpc }}, service: tokengate.liveness }
    {{- toYaml .Values.probes.startup | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- /* The whole folder, not a subPath, so ConfigMap updates reach the file for live reload. */}}
    - name: tokengate-config
      mountPath: /etc/tokengate
      readOnly: true
    - name: tokengate-tmp
      mountPath: /tmp
    {{- range .Values.secretMounts }}
    - name: tokengate-secret-{{ .name }}
      mountPath: {{ include "tokengate.secretDir" $ }}/{{ .name }}
      readOnly: true
    {{- end }}
    {{- if and .Values.redis.enabled .Values.redis.existingSecret }}
    - name: tokengate-redis-password
      mountPath: {{ include "tokengate.secretDir" . }}/redis-password
      readOnly: true
    {{- end }}
    {{- if and .Values.redis.enabled .Values.redis.tls.enabled .Values.redis.tls.caSecret }}
    - name: tokengate-redis-ca
      mountPath: {{ include "tokengate.secretDir" . }}/redis-ca
      readOnly: true
    {{- end }}
    {{- if and (eq .Values.mode "sidecar") .Values.sidecar.unixSocket }}
    - name: tokengate-socket
      mountPath: {{ .Values.sidecar.socketDir }}
    {{- end }}
{{- end }}

{{/* The volumes the tokengate container mounts, as list items of a pod's volumes. */}}
{{- define "tokengate.volumes" -}}
- name: tokengate-config
  configMap:
    name: {{ include "tokengate.fullname" . }}
- name: tokengate-tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- range .Values.secretMounts }}
- name: tokengate-secret-{{ .name }}
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 288 # 0440
    {{- with .items }}
    items:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.existingSecret }}
- name: tokengate-redis-password
  secret:
    secretName: {{ .Values.redis.existingSecret }}
    defaultMode: 288 # 0440
    items:
      - key: {{ .Values.redis.passwordKey }}
        path: {{ .Values.redis.passwordKey }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.tls.enabled .Values.redis.tls.caSecret }}
- name: tokengate-redis-ca
  secret:
    secretName: {{ .Values.redis.tls.caSecret }}
    defaultMode: 292 # 0444
    items:
      - key: {{ .Values.redis.tls.caKey }}
        path: {{ .Values.redis.tls.caKey }}
{{- end }}
{{- if and (eq .Values.mode "sidecar") .Values.sidecar.unixSocket }}
- name: tokengate-socket
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- end }}

{{/*
For other charts' pod specs, under `containers:`:
  {{- include "tokengate.sidecar" . | nindent 8 }}
and under `volumes:`:
  {{- include "tokengate.sidecarVolumes" . | nindent 8 }}
The Envoy container mounts the "tokengate-socket" volume at sidecar.socketDir when the socket is on.
*/}}
{{- define "tokengate.sidecar" -}}
{{- $scope := dict "root" . }}
{{- include "tokengate.resolveScope" $scope }}
{{- include "tokengate.container" $scope.ctx }}
{{- end }}

{{- define "tokengate.sidecarVolumes" -}}
{{- $scope := dict "root" . }}
{{- include "tokengate.resolveScope" $scope }}
{{- include "tokengate.volumes" $scope.ctx }}
{{- end }}

{{/* The pod-level settings shared by the Deployment. */}}
{{- define "tokengate.podSpec" -}}
serviceAccountName: {{ include "tokengate.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
containers:
  {{- include "tokengate.container" . | nindent 2 }}
volumes:
  {{- include "tokengate.volumes" . | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- range .Values.topologySpreadConstraints }}
  - {{- toYaml (merge (dict "labelSelector" (dict "matchLabels" (fromYaml (include "tokengate.selectorLabels" $)))) .) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
