{{/* Labels on everything the chart creates; the Dapr files from components/ stay verbatim. */}}
{{- define "shop.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app.kubernetes.io/part-of: shop
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* Selector labels of one service. Takes (dict "root" $ "name" $name). */}}
{{- define "shop.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
{{- end }}

{{/*
Labels of one service's objects. Takes (dict "root" $ "name" $name), plus "component"
for objects that are not the service itself.
*/}}
{{- define "shop.serviceLabels" -}}
{{ include "shop.labels" .root }}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/component: {{ .component | default .name | quote }}
{{- end }}

{{/* The image of one service. Takes (dict "root" $ "name" $name). */}}
{{- define "shop.image" -}}
{{- $image := .root.Values.image -}}
{{ printf "%s/%s:%s" $image.registry .name (default .root.Chart.AppVersion $image.tag) }}
{{- end }}

{{/* One environment variable read from a Secret key. Takes (dict "name" NAME "ref" {secret, key}). */}}
{{- define "shop.secretEnv" -}}
- name: {{ .name | quote }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s needs a secret name" .name) .ref.secret | quote }}
      key: {{ required (printf "%s needs a secret key" .name) .ref.key | quote }}
{{- end }}

{{/*
The Dapr environment for the sidecar, as the injector's two annotations: plain values
(dapr.io/env) and Secret references (dapr.io/env-from-secret, "NAME=secret:key"). A name
under sidecarSecretEnv replaces the same name under sidecarEnv.
*/}}
{{- define "shop.sidecarEnvAnnotations" -}}
{{- $broker := .Values.broker -}}
{{- $pairs := list -}}
{{- range $name := keys $broker.sidecarEnv | sortAlpha }}
{{- if not (hasKey $broker.sidecarSecretEnv $name) }}
{{- $pairs = append $pairs (printf "%s=%v" $name (index $broker.sidecarEnv $name)) -}}
{{- end }}
{{- end }}
{{- if $pairs }}
dapr.io/env: {{ join "," $pairs | quote }}
{{- end }}
{{- $refs := list -}}
{{- range $name := keys $broker.sidecarSecretEnv | sortAlpha }}
{{- $ref := index $broker.sidecarSecretEnv $name -}}
{{- $refs = append $refs (printf "%s=%s:%s" $name $ref.secret $ref.key) -}}
{{- end }}
{{- if $refs }}
dapr.io/env-from-secret: {{ join "," $refs | quote }}
{{- end }}
{{- end }}

{{/* The services to deploy: their entries merged over `defaults`, keyed by name. */}}
{{- define "shop.enabledServices" -}}
{{- $enabled := dict -}}
{{- range $name, $svc := .Values.services }}
{{- if $svc.enabled }}
{{- $_ := set $enabled $name (merge (deepCopy $svc) (deepCopy $.Values.defaults)) -}}
{{- end }}
{{- end }}
{{- toJson $enabled -}}
{{- end }}

{{/* Every Secret some enabled service reads through the Dapr secret store, as a JSON list. */}}
{{- define "shop.secretStoreReads" -}}
{{- $names := list -}}
{{- range $name, $s := include "shop.enabledServices" . | fromJson }}
{{- $names = concat $names ($s.secretStoreReads | default list) -}}
{{- end }}
{{- $names | uniq | sortAlpha | toJson -}}
{{- end }}
