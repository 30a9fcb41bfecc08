{{/* The prefix of every object: the release name, with the chart's unless the release already says it. */}}
{{- define "demo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "demo.labels" -}}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The Strimzi Kafka cluster; Strimzi names its bootstrap Service <cluster>-kafka-bootstrap. */}}
{{- define "demo.kafka" -}}
{{ include "demo.fullname" . }}
{{- end -}}

{{- define "demo.kafkaBootstrap" -}}
{{ include "demo.kafka" . }}-kafka-bootstrap:9092
{{- end -}}

{{/* The CloudNativePG cluster; CloudNativePG creates the Secret <cluster>-app. */}}
{{- define "demo.postgres" -}}
{{ include "demo.fullname" . }}-postgres
{{- end -}}

{{/* The OpenTelemetryCollector objects; the operator names their workloads and Services <name>-collector. */}}
{{- define "demo.agent" -}}
{{ include "demo.fullname" . }}-agent
{{- end -}}

{{- define "demo.gateway" -}}
{{ include "demo.fullname" . }}-gateway
{{- end -}}

{{- define "demo.jaeger" -}}
{{ include "demo.fullname" . }}-jaeger
{{- end -}}

{{/* VictoriaLogs, the log store; its Service has the same name. */}}
{{- define "demo.victorialogs" -}}
{{ include "demo.fullname" . }}-victorialogs
{{- end -}}

{{/* A container that runs as non-root, on a read-only root filesystem, without privileges. */}}
{{- define "demo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "demo.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end -}}
