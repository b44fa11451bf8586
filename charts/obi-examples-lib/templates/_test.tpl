{{/*
The `helm test` pod: runs telemetry-check, which asserts that OBI's telemetry for
this app reached the backend. Its interface is environment variables:
  TELEMETRY_CHECK_APP           app name (its spec), also OBI's service_name
  TELEMETRY_CHECK_NAMESPACE     namespace the app runs in (service_namespace)
  TELEMETRY_CHECK_PROMETHEUS_URL  Prometheus base URL
  TELEMETRY_CHECK_TRACES_BACKEND  tempo | jaeger
  TELEMETRY_CHECK_TRACES_URL    trace query base URL
  TELEMETRY_CHECK_TARGET_URL    the app's in-cluster URL (to send traced requests)
  TELEMETRY_CHECK_TIMEOUT       how long to poll before failing
*/}}
{{- define "obi-examples-lib.testPod" -}}
{{- if .Values.tests.enabled }}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
{{- $uid := include "obi-examples-lib.appUid" . }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "telemetry-check") }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  {{- include "obi-examples-lib.imagePullSecrets" . | nindent 2 }}
  securityContext:
    {{- include "obi-examples-lib.podSecurityContext" $uid | nindent 4 }}
  containers:
    - name: telemetry-check
      image: {{ include "obi-examples-lib.image" (dict "ctx" . "image" .Values.tests.image) }}
      imagePullPolicy: {{ .Values.tests.image.pullPolicy }}
      securityContext:
        {{- include "obi-examples-lib.containerSecurityContext" $uid | nindent 8 }}
      env:
        - name: TELEMETRY_CHECK_APP
          value: {{ $app.name | quote }}
        - name: TELEMETRY_CHECK_NAMESPACE
          value: {{ .Release.Namespace | quote }}
        - name: TELEMETRY_CHECK_PROMETHEUS_URL
          value: {{ include "obi-examples-lib.prometheusUrl" . | quote }}
        - name: TELEMETRY_CHECK_TRACES_BACKEND
          value: {{ include "obi-examples-lib.tracesBackend" . | quote }}
        - name: TELEMETRY_CHECK_TRACES_URL
          value: {{ include "obi-examples-lib.tracesUrl" . | quote }}
        - name: TELEMETRY_CHECK_TARGET_URL
          value: {{ printf "http://%s:%v" (include "obi-examples-lib.fullname" .) .Values.service.port | quote }}
        - name: TELEMETRY_CHECK_TIMEOUT
          value: {{ .Values.tests.timeout | quote }}
      resources:
        {{- toYaml .Values.tests.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
{{- end }}
{{- end }}
