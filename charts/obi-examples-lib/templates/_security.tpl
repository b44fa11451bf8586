{{/*
Pod Security Standards "restricted", for every pod this project renders: apps,
backing services, hook Jobs and test pods. The values are not configurable on
purpose; only the numeric user differs per image.
*/}}

{{/* Pod securityContext. Takes the numeric UID (e.g. 65532). */}}
{{- define "obi-examples-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container securityContext. Takes the numeric UID. */}}
{{- define "obi-examples-lib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* UID of the distroless nonroot user our images run as. */}}
{{- define "obi-examples-lib.appUid" -}}
65532
{{- end }}
