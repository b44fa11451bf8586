{{/*
kafka-streaming's own helpers: the Kafka objects' names, the broker's advertised
address and the bootstrap servers the app gets as APP__KAFKA__BOOTSTRAP_SERVERS
(bundled StatefulSet or `external`).
*/}}

{{/* `<fullname>-kafka`: StatefulSet, client Service, ConfigMap and Secret of the bundled broker. */}}
{{- define "kafka-streaming.kafkaName" -}}
{{- include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "kafka") }}
{{- end }}

{{/* `<fullname>-kafka-headless`: the StatefulSet's governing Service (per-pod DNS). */}}
{{- define "kafka-streaming.kafkaHeadlessName" -}}
{{- include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "kafka-headless") }}
{{- end }}

{{/*
The broker's advertised address: its pod's stable DNS name under the headless
Service (`<sts>-0.<headless>.<namespace>.svc:9092`). Clients bootstrap through
any address but then connect to this one, so it must resolve from every pod.
*/}}
{{- define "kafka-streaming.advertisedHost" -}}
{{- printf "%s-0.%s.%s.svc" (include "kafka-streaming.kafkaName" .) (include "kafka-streaming.kafkaHeadlessName" .) .Release.Namespace }}
{{- end }}

{{/* The app's broker address, as environment entries (a YAML list). */}}
{{- define "kafka-streaming.kafkaEnv" -}}
{{- $servers := printf "%s:9092" (include "kafka-streaming.kafkaName" .) }}
{{- if not .Values.kafka.enabled }}
{{- if not .Values.external.bootstrapServers }}
{{- fail "kafka.enabled is false: set external.bootstrapServers (host:port[,host:port...])" }}
{{- end }}
{{- $servers = .Values.external.bootstrapServers }}
{{- end }}
- name: APP__KAFKA__BOOTSTRAP_SERVERS
  value: {{ $servers | quote }}
{{- end }}
