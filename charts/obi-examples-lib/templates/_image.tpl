{{/*
Image references, always pinned to a tag.

Our own images (apps, telemetry-check): (dict "ctx" . "image" .Values.image)
-> <registry>/<repository>:<tag>, registry and tag falling back to `global.image`
and the chart's appVersion.
*/}}
{{- define "obi-examples-lib.image" -}}
{{- $registry := .image.registry | default (include "obi-examples-lib.globalRegistry" .ctx) }}
{{- $tag := .image.tag | default (include "obi-examples-lib.globalTag" .ctx) }}
{{- if not $tag }}
{{- fail (printf "image %s has no tag: set image.tag or global.image.tag" .image.repository) }}
{{- end }}
{{- printf "%s/%s:%s" $registry .image.repository (toString $tag) }}
{{- end }}

{{/*
Third-party images (k6, otel-lgtm, backing services) name their own registry and
tag; `global.image.registry` does not apply to them. Takes the image map.
*/}}
{{- define "obi-examples-lib.thirdPartyImage" -}}
{{- if not .tag }}
{{- fail (printf "image %s has no tag: third-party images are pinned" .repository) }}
{{- end }}
{{- printf "%s/%s:%s" .registry .repository (toString .tag) }}
{{- end }}
