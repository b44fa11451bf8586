{{/*
The app's configuration file (`/etc/app/config.yaml`): listener, fault switches
(`faults`, from the chart values; `faults.headers` is also on whenever the k6 Job
runs, which plays faults through x-fault-* headers with the admin token) and the
app's own settings (`config`).
The app rejects unknown keys at start-up, naming them.
*/}}
{{- define "obi-examples-lib.configMap" -}}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "obi-examples-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 4 }}
data:
  config.yaml: |
    server:
      host: 0.0.0.0
      port: {{ $app.port }}
      drain_timeout: {{ .Values.drainTimeout }}
    {{- with .Values.faults }}
    {{- $faults := deepCopy . }}
    {{- if and (hasKey $faults "headers") $.Values.load.enabled }}
    {{- $_ := set $faults "headers" true }}
    {{- end }}
    faults:
      {{- toYaml $faults | nindent 6 }}
    {{- end }}
    {{- with .Values.config }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
