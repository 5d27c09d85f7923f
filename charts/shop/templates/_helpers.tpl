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
The chosen broker and state store profiles, as a JSON list of {section, profile, folder}:
folder is the profile's folder under files/ (components/ in the repository). A release
from before stateStore existed (`helm upgrade --reuse-values` keeps its old values) has no
stateStore, and gets the redis one it had inside the redis broker profile then.
*/}}
{{- define "shop.profiles" -}}
{{- $broker := .Values.broker.profile | toString -}}
{{- $store := dig "profile" "redis" (.Values.stateStore | default dict) | toString -}}
{{- /* The schema's enums say the same; this holds with --skip-schema-validation too. */ -}}
{{- if or (not (regexMatch "^[a-z][a-z0-9-]*$" $broker)) (has $broker (list "common" "local" "statestore")) }}
{{- fail (printf "broker.profile %q is not a broker profile" $broker) }}
{{- end }}
{{- if not (regexMatch "^[a-z][a-z0-9-]*$" $store) }}
{{- fail (printf "stateStore.profile %q is not a state store profile" $store) }}
{{- end }}
{{- list
  (dict "section" "broker" "profile" $broker "folder" $broker)
  (dict "section" "stateStore" "profile" $store "folder" (printf "statestore/%s" $store))
  | toJson -}}
{{- end }}

{{/*
Every variable the chosen profiles' component files read by envRef, as JSON:
NAME -> [{section, profile, file}], one entry per file that reads it. Read from the files
themselves, so a profile that starts reading another variable is checked without a
template change. Comment lines never match (a "#" comes before "envRef").
*/}}
{{- define "shop.profileEnvRefs" -}}
{{- $refs := dict -}}
{{- range $p := include "shop.profiles" . | fromJsonArray }}
{{- range $path, $_ := $.Files.Glob (printf "files/%s/*.yaml" $p.folder) }}
{{- range $match := regexFindAll `(?m)^[ \t-]*envRef:[ \t]*["']?[A-Za-z_][A-Za-z0-9_]*` ($.Files.Get $path) -1 }}
{{- $name := regexReplaceAll `^[ \t-]*envRef:[ \t]*["']?` $match "" -}}
{{- $reader := dict "section" $p.section "profile" $p.profile "file" (printf "components/%s" (trimPrefix "files/" $path)) -}}
{{- $_ := set $refs $name (append (get $refs $name | default list) $reader) -}}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $refs -}}
{{- end }}

{{/*
The environment every sidecar gets for the broker and the state store, as JSON
{"env": {NAME: value}, "secretEnv": {NAME: {secret, key}}}: broker.sidecarEnv and
stateStore.sidecarEnv, broker.sidecarSecretEnv and stateStore.sidecarSecretEnv, each pair
merged. A sidecar has one environment, so a name given in both sections with two values
must resolve to one: it goes to the section whose profile's files read it, and when both
read it (the redis broker and the redis state store share REDIS_HOST) the render fails
rather than quietly point one of them at the other's server.
*/}}
{{- define "shop.sharedSidecarEnv" -}}
{{- $refs := include "shop.profileEnvRefs" . | fromJson -}}
{{- $sections := dict "broker" (.Values.broker | default dict) "stateStore" (.Values.stateStore | default dict) -}}
{{- $result := dict -}}
{{- range $kind := list "sidecarEnv" "sidecarSecretEnv" }}
{{- $merged := dict -}}
{{- range $section := list "broker" "stateStore" }}
{{- $values := get (get $sections $section) $kind | default dict -}}
{{- range $name := keys $values | sortAlpha }}
{{- $value := index $values $name -}}
{{- if eq $kind "sidecarEnv" }}
{{- /* As text now: a number would come back from JSON as a float (1e+06). */ -}}
{{- $value = printf "%v" $value -}}
{{- end }}
{{- if and (hasKey $merged $name) (ne (toJson (index $merged $name)) (toJson $value)) }}
{{- $readers := list -}}
{{- range $reader := get $refs $name | default list }}
{{- $readers = append $readers $reader.section -}}
{{- end }}
{{- if and (has "broker" $readers) (has "stateStore" $readers) }}
{{- fail (printf "broker.%s.%s and stateStore.%s.%s differ, but both the broker's and the state store's component files read %s by envRef and a sidecar has one environment: give it once, in broker.%s" $kind $name $kind $name $name $kind) }}
{{- end }}
{{- if not (has "broker" $readers) }}
{{- $_ := set $merged $name $value -}}
{{- end }}
{{- else }}
{{- $_ := set $merged $name $value -}}
{{- end }}
{{- end }}
{{- end }}
{{- $_ := set $result (ternary "env" "secretEnv" (eq $kind "sidecarEnv")) $merged -}}
{{- end }}
{{- toJson $result -}}
{{- end }}

{{/*
Fails the render when a sidecar could not resolve its components: a variable the chosen
profiles' files read by envRef that neither section's sidecarEnv nor sidecarSecretEnv
names (Dapr then starts the sidecar and fails the component only at runtime), or a plain
value the injector would lose: it reads dapr.io/env as NAME=value pairs and drops a pair
with a second "=", so a URL with ?sslmode=require would vanish without a word.
*/}}
{{- define "shop.checkSidecarEnv" -}}
{{- $shared := include "shop.sharedSidecarEnv" . | fromJson -}}
{{- range $name, $readers := include "shop.profileEnvRefs" . | fromJson }}
{{- if not (or (hasKey $shared.env $name) (hasKey $shared.secretEnv $name)) }}
{{- $reader := first $readers -}}
{{- fail (printf "%s.profile %s: %s reads %s by envRef, but no sidecarEnv or sidecarSecretEnv of broker or stateStore names it, so the sidecars could not connect. Name the Secret that holds it: %s.sidecarSecretEnv.%s: { secret: <Secret>, key: <key> } (or a plain %s.sidecarEnv.%s when it is no secret); values.yaml lists what each profile reads" $reader.section $reader.profile $reader.file $name $reader.section $name $reader.section $name) }}
{{- end }}
{{- end }}
{{- range $name, $value := $shared.env }}
{{- if not (hasKey $shared.secretEnv $name) }}
{{- $text := toString $value -}}
{{- if contains "=" $text }}
{{- fail (printf "the plain sidecar value of %s contains \"=\", which Dapr's dapr.io/env annotation cannot carry (the injector drops the pair): put it in a Secret and name it under sidecarSecretEnv instead" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Dapr environment for one service's sidecar, as the injector's two annotations: plain
values (dapr.io/env) and Secret references (dapr.io/env-from-secret, "NAME=secret:key"):
the broker's and the state store's for every sidecar (shop.sharedSidecarEnv), then the
service's own sidecarSecretEnv (the SMTP server of notifications' email binding, say),
which wins over them. A Secret reference replaces a plain value of the same name.
Takes (dict "root" $ "service" $s).
*/}}
{{- define "shop.sidecarEnvAnnotations" -}}
{{- $shared := include "shop.sharedSidecarEnv" .root | fromJson -}}
{{- $secretEnv := merge (deepCopy (.service.sidecarSecretEnv | default dict)) $shared.secretEnv -}}
{{- $pairs := list -}}
{{- range $name := keys $shared.env | sortAlpha }}
{{- if not (hasKey $secretEnv $name) }}
{{- $pairs = append $pairs (printf "%s=%s" $name (index $shared.env $name)) -}}
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
