{{/*
The `helm test` bundle: telemetry-check, which asserts that OBI's telemetry for
this app reached the backend, with what it needs. Everything renders from this
one include so that an app chart's templates/tests/ holds a single line:
  ConfigMap       the chart's telemetry/*.yaml specs, mounted at /etc/telemetry-check
  ServiceAccount  for the zero-code check only; its token is mounted in the test pod
  Role, RoleBinding  list pods in the release namespace, nothing else
  Pod             the helm-test hook itself
The pod's interface is environment variables (docs/telemetry-checks.md):
  TELEMETRY_CHECK_APP           app name (its spec), also OBI's service_name
  TELEMETRY_CHECK_NAMESPACE     namespace the app runs in (service_namespace)
  TELEMETRY_CHECK_PROMETHEUS_URL  Prometheus base URL
  TELEMETRY_CHECK_TRACES_BACKEND  tempo | jaeger
  TELEMETRY_CHECK_TRACES_URL    trace query base URL
  TELEMETRY_CHECK_TARGET_URL    the app's in-cluster URL (shown in the report)
  TELEMETRY_CHECK_TIMEOUT       how long to poll before failing
  TELEMETRY_CHECK_FAULTS        enabled fault scenarios: their specs run too, and
                                main-spec expectations they invalidate are skipped
  TELEMETRY_CHECK_FAULT_SETTINGS  the `faults` values as JSON, for `${faults.*}`
                                in specs (a fault spec follows what was configured)
  TELEMETRY_CHECK_POD_SELECTOR  the release's pods of this app (zero-code check)
*/}}
{{- define "obi-examples-lib.testPod" -}}
{{- if .Values.tests.enabled }}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
{{- $uid := include "obi-examples-lib.appUid" . }}
{{- $name := include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "telemetry-check") }}
{{- $specs := .Files.Glob "telemetry/*.yaml" }}
{{- $faults := list }}
{{- range $fault, $settings := .Values.faults }}
{{- if and (kindIs "map" $settings) $settings.enabled }}
{{- $faults = append $faults $fault }}
{{- end }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
{{- if $specs }}
data:
{{- range $path, $_ := $specs }}
  {{ base $path }}: |
    {{- $.Files.Get $path | trim | nindent 4 }}
{{- end }}
{{- else }}
data: {}
{{- end }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
rules:
  # The zero-code check reads the pods' env; nothing else, nowhere else.
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .Release.Namespace }}
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    # Deleted once it passed, so uninstall leaves nothing behind; Helm prints its
    # report either way, and a failed pod stays for `kubectl logs`.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    helm.sh/hook-output-log-policy: hook-succeeded,hook-failed
spec:
  restartPolicy: Never
  serviceAccountName: {{ $name }}
  # The zero-code check lists pods with this token (the Role above).
  automountServiceAccountToken: true
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
        - name: TELEMETRY_CHECK_FAULTS
          value: {{ join "," $faults | quote }}
        - name: TELEMETRY_CHECK_FAULT_SETTINGS
          value: {{ .Values.faults | default dict | toJson | quote }}
        - name: TELEMETRY_CHECK_POD_SELECTOR
          value: {{ printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s" (include "obi-examples-lib.name" .) .Release.Name | quote }}
        - name: TELEMETRY_CHECK_SPECS
          value: /etc/telemetry-check
      resources:
        {{- toYaml .Values.tests.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: specs
          mountPath: /etc/telemetry-check
          readOnly: true
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    - name: specs
      configMap:
        name: {{ $name }}
{{- end }}
{{- end }}
