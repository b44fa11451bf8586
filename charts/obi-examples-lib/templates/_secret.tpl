{{/*
The app's secrets. The admin token is `admin.token` if given, else generated on
first install and kept across upgrades (looked up from the live object).
*/}}
{{- define "obi-examples-lib.secret" -}}
{{- $name := include "obi-examples-lib.fullname" . }}
{{- $token := "" }}
{{- if .Values.admin.token }}
{{- $token = .Values.admin.token | b64enc }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name }}
{{- if and $existing $existing.data (index $existing.data "admin-token") }}
{{- $token = index $existing.data "admin-token" }}
{{- else }}
{{- $token = randAlphaNum 32 | b64enc }}
{{- end }}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 4 }}
  annotations:
    obi-examples.io/generated: {{ empty .Values.admin.token | quote }}
type: Opaque
data:
  admin-token: {{ $token }}
{{- end }}
