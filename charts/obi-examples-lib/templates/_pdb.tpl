{{/* Optional PodDisruptionBudget (off by default: one replica cannot honour it). */}}
{{- define "obi-examples-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "obi-examples-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "obi-examples-lib.selectorLabels" (dict "ctx" . "component" "app") | nindent 6 }}
{{- end }}
{{- end }}
