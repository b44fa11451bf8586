{{/*
redis-cache's own helpers: the Redis objects' name and the connection the app gets
as APP__REDIS__* variables (bundled StatefulSet or `external`), its password always
from a Secret.
*/}}

{{/* `<fullname>-redis`: StatefulSet, Service and Secret of the bundled Redis. */}}
{{- define "redis-cache.redisName" -}}
{{- include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "redis") }}
{{- end }}

{{/* The Secret holding the Redis password, and its key. */}}
{{- define "redis-cache.passwordSecret" -}}
{{- if and (not .Values.redis.enabled) .Values.external.existingSecret -}}
name: {{ .Values.external.existingSecret }}
key: {{ .Values.external.existingSecretKey }}
{{- else -}}
name: {{ include "redis-cache.redisName" . }}
key: password
{{- end }}
{{- end }}

{{/* The app's connection settings, as environment entries (a YAML list). */}}
{{- define "redis-cache.redisEnv" -}}
{{- $host := include "redis-cache.redisName" . }}
{{- $port := 6379 }}
{{- if not .Values.redis.enabled }}
{{- if not .Values.external.host }}
{{- fail "redis.enabled is false: set external.host (and external.password or external.existingSecret)" }}
{{- end }}
{{- $host = .Values.external.host }}
{{- $port = .Values.external.port }}
{{- end }}
- name: APP__REDIS__HOST
  value: {{ $host | quote }}
- name: APP__REDIS__PORT
  value: {{ $port | quote }}
- name: APP__REDIS__PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "redis-cache.passwordSecret" . | nindent 6 }}
{{- end }}
