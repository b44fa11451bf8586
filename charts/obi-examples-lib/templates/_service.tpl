{{/* The app's Service; gRPC ports declare h2c so meshes and proxies keep HTTP/2. */}}
{{- define "obi-examples-lib.service" -}}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "obi-examples-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "obi-examples-lib.selectorLabels" (dict "ctx" . "component" "app") | nindent 4 }}
  ports:
    - name: {{ $app.protocol }}
      port: {{ .Values.service.port }}
      targetPort: {{ $app.protocol }}
      protocol: TCP
      {{- if eq $app.protocol "grpc" }}
      appProtocol: kubernetes.io/h2c
      {{- else }}
      appProtocol: http
      {{- end }}
{{- end }}
