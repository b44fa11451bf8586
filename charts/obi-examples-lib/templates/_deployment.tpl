{{/*
The app Deployment. Config comes from the ConfigMap file named by APP_CONFIG_FILE,
the admin token from the Secret (APP__ADMIN__TOKEN), extra settings from
`env` (APP__SECTION__KEY). Probes: HTTP /healthz and /readyz, or native gRPC
health checks naming the service.

Call it with a dict: `ctx`, the chart's root context, and optionally `extraEnv`,
the app's own environment entries as a YAML list (its backing service's address
and credentials), appended after the shared ones:
  {{ include "obi-examples-lib.deployment" (dict "ctx" . "extraEnv" (include "<chart>.env" .)) }}
*/}}
{{- define "obi-examples-lib.deployment" -}}
{{- $extraEnv := .extraEnv }}
{{- with .ctx }}
{{- $app := include "obi-examples-lib.app" . | fromYaml }}
{{- $uid := include "obi-examples-lib.appUid" . }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "obi-examples-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "obi-examples-lib.selectorLabels" (dict "ctx" . "component" "app") | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include "obi-examples-lib.configMap" . | sha256sum }}
        resource.opentelemetry.io/service.name: {{ $app.name }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "obi-examples-lib.labels" (dict "ctx" . "component" "app") | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "obi-examples-lib.serviceAccountName" . }}
      automountServiceAccountToken: false
      {{- include "obi-examples-lib.imagePullSecrets" . | nindent 6 }}
      securityContext:
        {{- include "obi-examples-lib.podSecurityContext" $uid | nindent 8 }}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $app.name }}
          image: {{ include "obi-examples-lib.image" (dict "ctx" . "image" .Values.image) }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          securityContext:
            {{- include "obi-examples-lib.containerSecurityContext" $uid | nindent 12 }}
          ports:
            - name: {{ $app.protocol }}
              containerPort: {{ $app.port }}
              protocol: TCP
          env:
            - name: APP_CONFIG_FILE
              value: /etc/app/config.yaml
            - name: APP__ADMIN__TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "obi-examples-lib.fullname" . }}
                  key: admin-token
            {{- range $name, $value := .Values.env }}
            - name: {{ $name }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- with $extraEnv }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- if eq $app.protocol "grpc" }}
          livenessProbe:
            grpc:
              port: {{ $app.port }}
              service: {{ $app.grpcHealthService | quote }}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            grpc:
              port: {{ $app.port }}
              service: {{ $app.grpcHealthService | quote }}
            periodSeconds: 5
            failureThreshold: 3
          {{- else }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: {{ $app.protocol }}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: {{ $app.protocol }}
            periodSeconds: 5
            failureThreshold: 3
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/app
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: {{ include "obi-examples-lib.fullname" . }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end }}
