{{/*
The k6 load Job and its scripts. The scripts are the including chart's
`k6/main.js` (its traffic mix) and `k6/obi-examples.js` (the shared library,
a generated copy of this chart's `k6/obi-examples.js`).

By default the Job is a post-install/post-upgrade hook: Helm waits for it, so a
long profile needs a longer `helm --timeout`, or `load.hook: false`, which makes it
a plain Job named after the release revision.
*/}}

{{/* Seconds a profile may run before Kubernetes stops it. */}}
{{- define "obi-examples-lib.k6Deadline" -}}
{{- $deadlines := dict "smoke" 600 "constant" 1800 "spike" 1800 "stress" 2700 "soak" 9000 }}
{{- .Values.load.activeDeadlineSeconds | default (get $deadlines (include "obi-examples-lib.loadProfile" .)) }}
{{- end }}

{{- define "obi-examples-lib.k6ConfigMap" -}}
{{- if .Values.load.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "k6") }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "load") | nindent 4 }}
data:
  main.js: |
    {{- required (printf "chart %s has no k6/main.js" .Chart.Name) (.Files.Get "k6/main.js") | nindent 4 }}
  obi-examples.js: |
    {{- required (printf "chart %s has no k6/obi-examples.js (run `cargo xtask charts generate`)" .Chart.Name) (.Files.Get "k6/obi-examples.js") | nindent 4 }}
{{- end }}
{{- end }}

{{- define "obi-examples-lib.k6Job" -}}
{{- if .Values.load.enabled }}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
{{- $profile := include "obi-examples-lib.loadProfile" . }}
{{- $uid := 12345 }}
{{- $target := printf "http://%s:%v" (include "obi-examples-lib.fullname" .) .Values.service.port }}
apiVersion: batch/v1
kind: Job
metadata:
  {{- if .Values.load.hook }}
  name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "k6") }}
  {{- else }}
  name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" (printf "k6-%d" .Release.Revision)) }}
  {{- end }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "load") | nindent 4 }}
  annotations:
    obi-examples.io/load-profile: {{ $profile }}
    {{- if .Values.load.hook }}
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-weight: "10"
    # Deleted once it succeeded (Helm never deletes hooks on uninstall, so a kept
    # Job would outlive the release); Helm prints k6's summary either way, and a
    # failed Job stays for `kubectl logs`.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    helm.sh/hook-output-log-policy: hook-succeeded,hook-failed
    {{- end }}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: {{ include "obi-examples-lib.k6Deadline" . }}
  {{- with .Values.load.ttlSecondsAfterFinished }}
  ttlSecondsAfterFinished: {{ . }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "load") | nindent 8 }}
      annotations:
        checksum/scripts: {{ include "obi-examples-lib.k6ConfigMap" . | sha256sum }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        {{- include "obi-examples-lib.podSecurityContext" $uid | nindent 8 }}
      containers:
        - name: k6
          image: {{ include "obi-examples-lib.thirdPartyImage" .Values.load.image }}
          imagePullPolicy: IfNotPresent
          securityContext:
            {{- include "obi-examples-lib.containerSecurityContext" $uid | nindent 12 }}
          # k6 exits 99 when a threshold is crossed; that fails the release only
          # when load.thresholds.failRelease is true.
          command:
            - sh
            - -c
            - |
              k6 run --quiet /scripts/main.js
              rc=$?
              if [ "$rc" -eq 99 ] && [ "$FAIL_RELEASE" != "true" ]; then
                echo "k6: thresholds crossed; not failing the release (load.thresholds.failRelease is false)"
                exit 0
              fi
              exit "$rc"
          env:
            - name: K6_PROFILE
              value: {{ $profile | quote }}
            - name: TARGET_URL
              value: {{ $target | quote }}
            - name: TARGET_PROTOCOL
              value: {{ $app.protocol | quote }}
            # x-fault-* headers need the admin token (faults.headers is on with load).
            - name: FAULT_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "obi-examples-lib.fullname" . }}
                  key: admin-token
            - name: READY_URL
              value: {{ printf "%s/readyz" $target | quote }}
            - name: READY_TIMEOUT
              value: {{ .Values.load.readyTimeout | quote }}
            - name: K6_THRESHOLDS
              value: {{ .Values.load.thresholds.rules | toJson | quote }}
            - name: FAIL_RELEASE
              value: {{ .Values.load.thresholds.failRelease | quote }}
            - name: K6_NO_USAGE_REPORT
              value: "true"
            - name: HOME
              value: /tmp
          resources:
            {{- toYaml .Values.load.resources | nindent 12 }}
          volumeMounts:
            - name: scripts
              mountPath: /scripts
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: scripts
          configMap:
            name: {{ include "obi-examples-lib.suffixedName" (dict "ctx" . "suffix" "k6") }}
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
{{- end }}
{{- end }}
