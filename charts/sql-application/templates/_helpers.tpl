{{/*
sql-application's own helpers: the PostgreSQL objects' name and the database
connection the app gets as APP__DATABASE__* variables (bundled StatefulSet or
`external`), its password always from a Secret.
*/}}

{{/* `<fullname>-postgresql`: StatefulSet, Service and Secret of the bundled database. */}}
{{- define "sql-application.postgresqlName" -}}
{{- include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "postgresql") }}
{{- end }}

{{/* The Secret holding the database password, and its key. */}}
{{- define "sql-application.passwordSecret" -}}
{{- if and (not .Values.postgresql.enabled) .Values.external.existingSecret -}}
name: {{ .Values.external.existingSecret }}
key: {{ .Values.external.existingSecretKey }}
{{- else -}}
name: {{ include "sql-application.postgresqlName" . }}
key: password
{{- end }}
{{- end }}

{{/* The app's connection settings, as environment entries (a YAML list). */}}
{{- define "sql-application.databaseEnv" -}}
{{- $db := .Values.postgresql }}
{{- $host := include "sql-application.postgresqlName" . }}
{{- $port := 5432 }}
{{- if not $db.enabled }}
{{- if not .Values.external.host }}
{{- fail "postgresql.enabled is false: set external.host (and external.password or external.existingSecret)" }}
{{- end }}
{{- $db = .Values.external }}
{{- $host = .Values.external.host }}
{{- $port = .Values.external.port }}
{{- end }}
- name: APP__DATABASE__HOST
  value: {{ $host | quote }}
- name: APP__DATABASE__PORT
  value: {{ $port | quote }}
- name: APP__DATABASE__NAME
  value: {{ $db.database | quote }}
- name: APP__DATABASE__USER
  value: {{ $db.user | quote }}
- name: APP__DATABASE__PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "sql-application.passwordSecret" . | nindent 6 }}
{{- end }}
