{{/*
Named templates of the tokengate chart. Every one takes the chart's root context; the sidecar
templates also accept a parent chart's root context (see "tokengate.scope").
*/}}

{{- define "tokengate.name" -}}
{{- default "tokengate" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tokengate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "tokengate.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tokengate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tokengate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tokengate.labels" -}}
{{ include "tokengate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "tokengate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tokengate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tokengate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* In-cluster DNS name of the Service (deployment mode). */}}
{{- define "tokengate.serviceHost" -}}
{{- printf "%s.%s.svc.cluster.local" (include "tokengate.fullname" .) .Release.Namespace }}
{{- end }}

{{/* The headless Service Envoy resolves to reach every pod, not one virtual IP. */}}
{{- define "tokengate.headlessHost" -}}
{{- printf "%s-headless.%s.svc.cluster.local" (include "tokengate.fullname" .) .Release.Namespace }}
{{- end }}

{{/* The gRPC listener address written into the config. */}}
{{- define "tokengate.grpcAddress" -}}
{{- if eq .Values.mode "sidecar" }}
{{- if .Values.sidecar.unixSocket }}
{{- printf "unix:%s/grpc.sock" .Values.sidecar.socketDir }}
{{- else }}
{{- printf "127.0.0.1:%d" (int .Values.ports.grpc) }}
{{- end }}
{{- else }}
{{- printf "%s:%d" .Values.listenHost (int .Values.ports.grpc) }}
{{- end }}
{{- end }}

{{/* The HTTP listener address: reachable from the pod IP for probes and Prometheus. */}}
{{- define "tokengate.httpAddress" -}}
{{- printf "%s:%d" .Values.listenHost (int .Values.ports.http) }}
{{- end }}

{{- define "tokengate.secretDir" -}}/var/run/secrets/tokengate{{- end }}

{{/* The config file as tokengate reads it: values.config plus the chart-owned keys. */}}
{{- define "tokengate.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "grpc" (merge (dict "address" (include "tokengate.grpcAddress" .)) (default dict (get $config "grpc"))) }}
{{- $_ := set $config "http" (merge (dict "address" (include "tokengate.httpAddress" .)) (default dict (get $config "http"))) }}
{{- if .Values.redis.enabled }}
{{- $address := required "redis.address is required when redis.enabled" .Values.redis.address }}
{{- $url := printf "%s://%s/%d" (ternary "rediss" "redis" .Values.redis.tls.enabled) $address (int .Values.redis.database) }}
{{- $revocation := deepCopy (default dict (get $config "revocation")) }}
{{- $_ := set $revocation "store" "redis" }}
{{- $redis := merge (dict "url" $url) (default dict (get $revocation "redis")) }}
{{- if .Values.redis.existingSecret }}
{{- $_ := set $redis "passwordFile" (printf "%s/redis-password/%s" (include "tokengate.secretDir" .) .Values.redis.passwordKey) }}
{{- end }}
{{- $_ := set $revocation "redis" $redis }}
{{- $_ := set $config "revocation" $revocation }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* The port of config.admin.address, when the admin API is on. */}}
{{- define "tokengate.adminPort" -}}
{{- with .Values.config.admin }}
{{- with .address }}
{{- regexFind "[0-9]+$" . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
What a running pod cannot pick up by live reload: every config key but those in liveReload
(tokens.cache excepted, which is sized once at start), and the Secret wiring. Its hash is the
pod's restart annotation, so a key this chart does not know rolls the pods rather than be ignored.
*/}}
{{- define "tokengate.restartInputs" -}}
{{- $config := fromYaml (include "tokengate.config" .) }}
{{- $restart := deepCopy $config }}
{{- range .Values.liveReload }}
{{- $_ := unset $restart . }}
{{- end }}
{{- $_ := set $restart "tokens.cache" (dig "tokens" "cache" dict $config) }}
{{- toYaml (dict "config" $restart "secretMounts" .Values.secretMounts) }}
{{- end }}

{{/*
The chart context the sidecar templates render with: the chart's own, or, when a parent chart
that depends on tokengate includes them with its own ".", the tokengate subchart's context.
Returns the context as the key "ctx" of the dict given in.
*/}}
{{- define "tokengate.resolveScope" -}}
{{- $root := .root }}
{{- $_ := set . "ctx" $root }}
{{- if and (ne $root.Chart.Name "tokengate") $root.Subcharts (hasKey $root.Subcharts "tokengate") }}
{{- $_ := set . "ctx" (index $root.Subcharts "tokengate") }}
{{- end }}
{{- end }}
