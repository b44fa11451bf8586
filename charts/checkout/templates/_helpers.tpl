{{/*
checkout's own helpers: the address of each hop (`hops.<hop>`, else the Service the
umbrella gives that app, `<release>-<app>`) and of its Redis (`redis.host`, else
redis-cache's bundled Redis, `<release>-redis-cache-redis`, with its password from
that Redis' Secret), and the admin token of the guilty hop of `slow_hop` and
`broken_hop` (`scenarioTokenSecret`, else that app's Secret in the umbrella; optional,
so checkout runs without it and only refuses those scenarios at start), as
environment entries (a YAML list).
*/}}
{{- define "checkout.env" -}}
{{- $release := .Release.Name }}
{{- $defaults := dict "cart" "redis-cache:8082" "inventory" "grpc-microservice:50051" "orders" "sql-application:8081" "events" "kafka-streaming:8083" "catalog" "http-rest-api:8080" }}
{{- $guilty := (.Values.config.scenarios | default dict).hop | default "orders" }}
{{- range $hop := list "cart" "inventory" "orders" "events" "catalog" }}
- name: APP__HOPS__{{ upper $hop }}__URL
  value: {{ index $.Values.hops $hop | default (printf "http://%s-%s" $release (index $defaults $hop)) | quote }}
{{- end }}
- name: APP__REDIS__HOST
  value: {{ .Values.redis.host | default (printf "%s-redis-cache-redis" $release) | quote }}
- name: APP__REDIS__PORT
  value: {{ .Values.redis.port | quote }}
- name: APP__REDIS__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret | default (printf "%s-redis-cache-redis" $release) }}
      key: {{ .Values.redis.existingSecretKey }}
- name: APP__SCENARIOS__HOP_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.scenarioTokenSecret | default (printf "%s-%s" $release (first (splitList ":" (index $defaults $guilty)))) }}
      key: admin-token
      optional: true
{{- end }}
