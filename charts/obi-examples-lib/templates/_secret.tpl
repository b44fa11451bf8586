{{/*
The app's Secret. Each key is its value if given, else generated on first install
and kept across upgrades (looked up from the live object). `admin-token` comes from
`admin.token`; an app adds keys of its own with `extraKeys`, key to
`{value, length}` (length of a generated value):
  {{ include "obi-examples-lib.secret" (dict "ctx" . "extraKeys" (dict "jwt-secret" (dict "value" .Values.jwt.secret "length" 48))) }}
The annotation `obi-examples.io/generated` says whether any value was generated.
*/}}
{{- define "obi-examples-lib.secret" -}}
{{- $ctx := .ctx }}
{{- $name := include "obi-examples-lib.fullname" $ctx }}
{{- $keys := dict "admin-token" (dict "value" $ctx.Values.admin.token "length" 32) }}
{{- range $key, $spec := .extraKeys }}
{{- $_ := set $keys $key $spec }}
{{- end }}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace $name }}
{{- $data := dict }}
{{- $generated := false }}
{{- range $key, $spec := $keys }}
{{- if $spec.value }}
{{- $_ := set $data $key ($spec.value | toString | b64enc) }}
{{- else }}
{{- $generated = true }}
{{- if and $existing $existing.data (index $existing.data $key) }}
{{- $_ := set $data $key (index $existing.data $key) }}
{{- else }}
{{- $_ := set $data $key (randAlphaNum ($spec.length | int) | b64enc) }}
{{- end }}
{{- end }}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" $ctx "component" "app") | nindent 4 }}
  annotations:
    obi-examples.io/generated: {{ $generated | quote }}
type: Opaque
data:
  {{- range $key, $value := $data }}
  {{ $key }}: {{ $value }}
  {{- end }}
{{- end }}

{{/*
The one-key Secret of a bundled backing service (a database password, a cluster
id). The value is `given` if set, else the live Secret's (kept across upgrades),
else `generated`, a fresh value the caller makes (only used on first install).
`helm.sh/resource-policy: keep` leaves it behind on uninstall, with the volume it
belongs to.
  {{ include "obi-examples-lib.backendSecret" (dict "ctx" . "name" $name "key" "password" "given" .Values.x.password "generated" (randAlphaNum 32)) }}
*/}}
{{- define "obi-examples-lib.backendSecret" -}}
{{- $ctx := .ctx }}
{{- $value := "" }}
{{- if .given }}
{{- $value = .given | toString | b64enc }}
{{- else }}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace .name }}
{{- if and $existing $existing.data (index $existing.data .key) }}
{{- $value = index $existing.data .key }}
{{- else }}
{{- $value = .generated | b64enc }}
{{- end }}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" $ctx "component" "backend") | nindent 4 }}
  annotations:
    obi-examples.io/generated: {{ empty .given | quote }}
    helm.sh/resource-policy: keep
type: Opaque
data:
  {{ .key }}: {{ $value }}
{{- end }}
