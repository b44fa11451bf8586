{{/*
The data volume of a bundled backing service (PostgreSQL, Redis, Kafka): a
PersistentVolumeClaim of its own that the single-replica StatefulSet mounts, not
a volumeClaimTemplate. The API server forbids any change to a StatefulSet's
volumeClaimTemplates, so with one `helm upgrade` could never switch persistence
on or off (the cluster gate found this). The claim is named as the template's
claim of replica 0 was (`data-<statefulset>-0`) and kept on uninstall
(`helm.sh/resource-policy: keep`), like the Secret whose credentials its data
was made with.
  {{ include "obi-examples-lib.dataClaim" (dict "ctx" . "statefulSet" $name "persistence" .Values.x.persistence) }}
*/}}
{{- define "obi-examples-lib.dataClaim" -}}
{{- if .persistence.enabled }}
{{- $ctx := .ctx }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "obi-examples-lib.dataClaimName" .statefulSet }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" $ctx "component" "backend") | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  accessModes: ["ReadWriteOnce"]
  {{- with .persistence.storageClass }}
  storageClassName: {{ . | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ .persistence.size }}
{{- end }}
{{- end }}

{{/*
The name of a StatefulSet's data claim (argument: the StatefulSet's name).
*/}}
{{- define "obi-examples-lib.dataClaimName" -}}
data-{{ . }}-0
{{- end }}

{{/*
The `data` volume of a backing service's pod: its claim with persistence on, else
an emptyDir of the same size limit.
  {{ include "obi-examples-lib.dataVolume" (dict "statefulSet" $name "persistence" .Values.x.persistence) | nindent 8 }}
*/}}
{{- define "obi-examples-lib.dataVolume" -}}
- name: data
{{- if .persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "obi-examples-lib.dataClaimName" .statefulSet }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .persistence.size }}
{{- end }}
{{- end }}
