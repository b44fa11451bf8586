{{/*
The app's Grafana dashboard as a ConfigMap that Grafana's sidecar picks up by
label (`grafana_dashboard: "1"` unless global.dashboards says otherwise). The JSON
is a generated copy of the repository's `dashboards/<app>.json` in the including
chart's `dashboards/` directory.
*/}}
{{- define "obi-examples-lib.dashboardConfigMap" -}}
{{- if .Values.dashboard.enabled }}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
{{- $file := printf "dashboards/%s.json" $app.name }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "dashboard") }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "dashboard") | nindent 4 }}
    {{- include "obi-examples-lib.dashboardLabel" . | nindent 4 }}
  {{- with include "obi-examples-lib.dashboardAnnotations" . }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
data:
  {{ $app.name }}.json: |-
    {{- required (printf "chart %s has no %s (run `cargo xtask charts generate`)" .Chart.Name $file) (.Files.Get $file) | nindent 4 }}
{{- end }}
{{- end }}
