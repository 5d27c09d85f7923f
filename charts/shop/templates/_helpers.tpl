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
The Dapr environment for one service's sidecar, as the injector's two annotations: plain
values (dapr.io/env) and Secret references (dapr.io/env-from-secret, "NAME=secret:key"):
the broker's for every sidecar, then the service's own sidecarSecretEnv (the SMTP server
of notifications' email binding, say). A Secret reference replaces a plain value of the
same name. Takes (dict "root" $ "service" $s).
*/}}
{{- define "shop.sidecarEnvAnnotations" -}}
{{- $broker := .root.Values.broker -}}
{{- $secretEnv := merge (deepCopy (.service.sidecarSecretEnv | default dict)) $broker.sidecarSecretEnv -}}
{{- $pairs := list -}}
{{- range $name := keys $broker.sidecarEnv | sortAlpha }}
{{- if not (hasKey $secretEnv $name) }}
{{- $pairs = append $pairs (printf "%s=%v" $name (index $broker.sidecarEnv $name)) -}}
{{- end }}
{{- end }}
{{- if $pairs }}
dapr.io/env: {{ join "," $pairs | quote }}
{{- end }}
{{- $refs := list -}}
{{- range $name := keys $secretEnv | sortAlpha }}
{{- $ref := index $secretEnv $name -}}
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
