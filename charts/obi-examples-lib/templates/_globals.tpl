{{/*
Values shared across the release under `global`. A chart installed alone has no
`global`, so every lookup has a default here, in one place.
*/}}

{{/* `global` as a map, empty when absent. */}}
{{- define "obi-examples-lib.globals" -}}
{{- toYaml (.Values.global | default dict) }}
{{- end }}

{{/* Registry of our own images: global.image.registry, else ghcr.io. */}}
{{- define "obi-examples-lib.globalRegistry" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- dig "image" "registry" "ghcr.io" $g }}
{{- end }}

{{/* Tag of our own images: global.image.tag, else the chart's appVersion. */}}
{{- define "obi-examples-lib.globalTag" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- dig "image" "tag" "" $g | default .Chart.AppVersion }}
{{- end }}

{{/* Image pull secrets from global.image.pullSecrets (list of names). */}}
{{- define "obi-examples-lib.imagePullSecrets" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- with dig "image" "pullSecrets" list $g }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Host name of the optional bundled backend (the otel-lgtm chart of this release). */}}
{{- define "obi-examples-lib.lgtmHost" -}}
{{- printf "%s-otel-lgtm" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prometheus base URL: global.telemetry.prometheusUrl, else the bundled backend. */}}
{{- define "obi-examples-lib.prometheusUrl" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- dig "telemetry" "prometheusUrl" "" $g | default (printf "http://%s:9090" (include "obi-examples-lib.lgtmHost" .)) }}
{{- end }}

{{/* Trace backend kind: global.telemetry.tracesBackend (tempo | jaeger), else tempo. */}}
{{- define "obi-examples-lib.tracesBackend" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- dig "telemetry" "tracesBackend" "tempo" $g }}
{{- end }}

{{/* Trace query base URL: global.telemetry.tracesUrl, else the bundled backend's Tempo. */}}
{{- define "obi-examples-lib.tracesUrl" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- dig "telemetry" "tracesUrl" "" $g | default (printf "http://%s:3200" (include "obi-examples-lib.lgtmHost" .)) }}
{{- end }}

{{/* Load profile: the chart's load.profile, else global.load.profile, else smoke. */}}
{{- define "obi-examples-lib.loadProfile" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- .Values.load.profile | default (dig "load" "profile" "smoke" $g) }}
{{- end }}

{{/* Grafana sidecar label key and value for dashboard ConfigMaps. */}}
{{- define "obi-examples-lib.dashboardLabel" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- $key := dig "dashboards" "labelKey" "grafana_dashboard" $g }}
{{- $value := dig "dashboards" "labelValue" "1" $g }}
{{- printf "%s: %s" $key ($value | toString | quote) }}
{{- end }}

{{/* Extra annotations for dashboard ConfigMaps (e.g. a Grafana folder). */}}
{{- define "obi-examples-lib.dashboardAnnotations" -}}
{{- $g := include "obi-examples-lib.globals" . | fromYaml }}
{{- with dig "dashboards" "annotations" dict $g }}
{{- toYaml . }}
{{- end }}
{{- end }}
