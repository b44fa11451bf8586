{{/*
Names and labels. Every template takes the including chart's root context (`.`)
unless it says otherwise; names are prefixed with this chart's name and
truncated to 63 characters (DNS label limit).
*/}}

{{/*
The app's name, or `nameOverride`. Taken from the chart annotation
`obi-examples.io/app`, not `.Chart.Name`: the umbrella installs the charts under
aliases (`http`, `grpc`, ...) and Helm renames an aliased chart, but object names
and labels should not depend on how a chart was installed.
*/}}
{{- define "obi-examples-lib.name" -}}
{{- $annotations := .Chart.Annotations | default dict }}
{{- .Values.nameOverride | default (index $annotations "obi-examples.io/app") | default .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release-qualified name: `fullnameOverride`, else `<release>-<name>` (just the
release name when it already contains the chart name).
*/}}
{{- define "obi-examples-lib.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "obi-examples-lib.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* `<fullname>-<suffix>`, truncated so that the suffix survives. Takes (dict "ctx" . "suffix" "k6"). */}}
{{- define "obi-examples-lib.suffixedName" -}}
{{- $suffix := printf "-%s" .suffix }}
{{- $base := include "obi-examples-lib.fullname" .ctx | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s%s" $base $suffix }}
{{- end }}

{{/* `name-version` for the helm.sh/chart label (the chart's own name, not its alias). */}}
{{- define "obi-examples-lib.chart" -}}
{{- printf "%s-%s" (include "obi-examples-lib.name" .) .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of a release, so never the version. The
component keeps the app's Service from selecting k6 or test pods.
Takes (dict "ctx" . "component" "app").
*/}}
{{- define "obi-examples-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "obi-examples-lib.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of an object. Takes (dict "ctx" . "component" "app"). */}}
{{- define "obi-examples-lib.labels" -}}
helm.sh/chart: {{ include "obi-examples-lib.chart" .ctx }}
{{ include "obi-examples-lib.selectorLabels" . }}
{{- with .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: obi-examples
{{- end }}

{{/* The ServiceAccount the app runs as. */}}
{{- define "obi-examples-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "obi-examples-lib.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The app's fixed facts, declared by each app chart in its Chart.yaml annotations
(they survive aliasing, unlike the chart name):
  obi-examples.io/app                  service name as OBI reports it (`service_name`)
  obi-examples.io/port                 the port the app listens on
  obi-examples.io/protocol             http | grpc (probes, port names, load target)
  obi-examples.io/grpc-health-service  service named by native gRPC probes (grpc only)
Returned as YAML with keys name, port, protocol, grpcHealthService; use with `fromYaml`.
*/}}
{{- define "obi-examples-lib.app" -}}
{{- $a := .Chart.Annotations | default dict }}
{{- $name := index $a "obi-examples.io/app" }}
{{- $port := index $a "obi-examples.io/port" }}
{{- $protocol := index $a "obi-examples.io/protocol" }}
{{- if not (and $name $port $protocol) }}
{{- fail (printf "chart %s: Chart.yaml needs the annotations obi-examples.io/app, obi-examples.io/port and obi-examples.io/protocol" .Chart.Name) }}
{{- end }}
{{- if not (has $protocol (list "http" "grpc")) }}
{{- fail (printf "chart %s: obi-examples.io/protocol must be http or grpc, not %s" .Chart.Name $protocol) }}
{{- end }}
name: {{ $name }}
port: {{ $port | int }}
protocol: {{ $protocol }}
grpcHealthService: {{ index $a "obi-examples.io/grpc-health-service" | default "" | quote }}
{{- end }}
