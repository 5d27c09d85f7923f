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
{{- /* What the chart derives from `redis` and the broker's block, where not named above. */ -}}
{{- $derived := include "shop.derivedSidecarEnv" . | fromJson -}}
{{- range $kind := list "env" "secretEnv" }}
{{- range $name, $value := get $derived $kind }}
{{- if not (or (hasKey $result.env $name) (hasKey $result.secretEnv $name)) }}
{{- $_ := set (get $result $kind) $name $value -}}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $result -}}
{{- end }}

{{/*
The sidecar variables the chart sets itself, as JSON {"env": {...}, "secretEnv": {...}}:
REDIS_PASSWORD and REDIS_TLS from `redis`; for the kafka profile its authentication and
TLS from broker.kafka; SSL_CERT_DIR where the sidecars trust a CA of shop.trustedCAs.
Read with dig, so a release upgraded with --reuse-values from before these values existed
keeps rendering (without password or TLS, as it was).
*/}}
{{- define "shop.derivedSidecarEnv" -}}
{{- $env := dict -}}
{{- $secretEnv := dict -}}
{{- $profiles := list -}}
{{- range $p := include "shop.profiles" . | fromJsonArray }}{{ $profiles = append $profiles $p.profile }}{{ end -}}
{{- $redis := .Values.redis | default dict -}}
{{- if has "redis" $profiles }}
{{- if dig "auth" "enabled" false $redis }}
{{- $_ := set $secretEnv "REDIS_PASSWORD" (dict "secret" $redis.auth.secret "key" $redis.auth.key) -}}
{{- else }}
{{- $_ := set $env "REDIS_PASSWORD" "" -}}
{{- end }}
{{- $_ := set $env "REDIS_TLS" (dig "tls" "enabled" false $redis | toString) -}}
{{- end }}
{{- if eq (.Values.broker.profile | toString) "kafka" }}
{{- $kafka := dig "kafka" dict .Values.broker -}}
{{- $sasl := dig "sasl" dict $kafka -}}
{{- $_ := set $env "KAFKA_DISABLE_TLS" (not (dig "tls" "enabled" false $kafka) | toString) -}}
{{- if dig "enabled" false $sasl }}
{{- $_ := set $env "KAFKA_AUTH_TYPE" "password" -}}
{{- $_ := set $env "KAFKA_SASL_MECHANISM" $sasl.mechanism -}}
{{- $secret := required "broker.kafka.sasl.enabled needs broker.kafka.sasl.secret: the Secret with the SASL user and password" $sasl.secret -}}
{{- $_ := set $secretEnv "KAFKA_SASL_USERNAME" (dict "secret" $secret "key" $sasl.usernameKey) -}}
{{- $_ := set $secretEnv "KAFKA_SASL_PASSWORD" (dict "secret" $secret "key" $sasl.passwordKey) -}}
{{- else }}
{{- $_ := set $env "KAFKA_AUTH_TYPE" "none" -}}
{{- $_ := set $env "KAFKA_SASL_MECHANISM" "" -}}
{{- $_ := set $env "KAFKA_SASL_USERNAME" "" -}}
{{- $_ := set $env "KAFKA_SASL_PASSWORD" "" -}}
{{- end }}
{{- end }}
{{- if include "shop.trustedCAs" . | fromJsonArray }}
{{- $_ := set $env "SSL_CERT_DIR" "/var/run/shop/ca" -}}
{{- end }}
{{- dict "env" $env "secretEnv" $secretEnv | toJson -}}
{{- end }}

{{/*
The CA certificates the connections with TLS on trust, as a JSON list of {name, secret,
key}: Redis's whenever redis.tls is on (the gateway's rate limits use it whatever the
profiles), the broker profile's when its tls is on. Each is mounted as
/var/run/shop/ca/<name>-ca.crt (shop.caVolume). Fails the render when TLS is on without one.
*/}}
{{- define "shop.trustedCAs" -}}
{{- $cas := list -}}
{{- $sources := list (list "redis" "redis.tls" (dig "tls" dict (.Values.redis | default dict))) -}}
{{- $profile := .Values.broker.profile | toString -}}
{{- if has $profile (list "kafka" "rabbitmq" "nats") }}
{{- $sources = append $sources (list $profile (printf "broker.%s.tls" $profile) (dig $profile "tls" dict .Values.broker)) -}}
{{- end }}
{{- range $source := $sources }}
{{- $name := index $source 0 -}}
{{- $tls := index $source 2 -}}
{{- if dig "enabled" false $tls }}
{{- $ca := dig "ca" dict $tls -}}
{{- if not (and (dig "secret" "" $ca) (dig "key" "" $ca)) }}
{{- fail (printf "%s.enabled needs %s.ca: { secret, key }, the Secret holding the CA certificate (PEM) that signed the server's certificate" (index $source 1) (index $source 1)) }}
{{- end }}
{{- $cas = append $cas (dict "name" $name "secret" $ca.secret "key" $ca.key) -}}
{{- end }}
{{- end }}
{{- toJson $cas -}}
{{- end }}

{{/* The volume of shop.trustedCAs, one file each; nothing when there are none. */}}
{{- define "shop.caVolume" -}}
{{- with include "shop.trustedCAs" . | fromJsonArray }}
- name: trusted-ca
  projected:
    # 0444: readable by whichever user daprd runs as.
    defaultMode: 292
    sources:
      {{- range . }}
      - secret:
          name: {{ .secret | quote }}
          items:
            - key: {{ .key | quote }}
              path: {{ printf "%s-ca.crt" .name | quote }}
      {{- end }}
{{- end }}
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

{{/*
The services to deploy: their entries merged over `defaults`, keyed by name. sprig's merge
treats false as unset, so a service's `autoscaling.enabled: false` would lose to a default
of true; it is carried over by hand.
*/}}
{{- define "shop.enabledServices" -}}
{{- $enabled := dict -}}
{{- range $name, $svc := .Values.services }}
{{- if $svc.enabled }}
{{- $merged := merge (deepCopy $svc) (deepCopy $.Values.defaults) -}}
{{- $own := $svc.autoscaling | default dict -}}
{{- if hasKey $own "enabled" }}
{{- $_ := set $merged.autoscaling "enabled" $own.enabled -}}
{{- end }}
{{- $_ := set $enabled $name $merged -}}
{{- end }}
{{- end }}
{{- toJson $enabled -}}
{{- end }}

{{/* The name of one app's Dapr Configuration. Takes (dict "root" $ "name" $name). */}}
{{- define "shop.daprConfigName" -}}
{{ printf "%s-%s" .root.Values.dapr.configName .name }}
{{- end }}

{{/*
dapr.accessControl checked and read, as JSON: callee -> caller -> {"all": bool,
"operations": [{"name": "/path", "httpVerb": ["GET"]}]}. Every app id named must be one of
services: (enabled or not), so a misspelt caller fails here instead of being a policy
that never matches. Methods are "VERB /path"; the schema says the same, and this holds
with --skip-schema-validation too.
*/}}
{{- define "shop.accessControl" -}}
{{- $result := dict -}}
{{- $known := keys .Values.services | sortAlpha -}}
{{- range $callee, $callers := .Values.dapr.accessControl | default dict }}
{{- if not (has $callee $known) }}
{{- fail (printf "dapr.accessControl.%s: no service %q in services (%s)" $callee $callee (join ", " $known)) }}
{{- end }}
{{- $policies := dict -}}
{{- range $caller, $allowed := $callers | default dict }}
{{- if not (has $caller $known) }}
{{- fail (printf "dapr.accessControl.%s.%s: no service %q in services (%s)" $callee $caller $caller (join ", " $known)) }}
{{- end }}
{{- if eq (toString $allowed) "all" }}
{{- $_ := set $policies $caller (dict "all" true "operations" list) -}}
{{- else if kindIs "slice" $allowed }}
{{- $operations := list -}}
{{- range $method := $allowed }}
{{- if not (regexMatch `^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) /[^\s]*$` (toString $method)) }}
{{- fail (printf "dapr.accessControl.%s.%s: %q is not \"VERB /path\" (e.g. \"GET /.well-known/jwks.json\")" $callee $caller (toString $method)) }}
{{- end }}
{{- $parts := splitList " " $method -}}
{{- $operations = append $operations (dict "name" (index $parts 1) "httpVerb" (list (index $parts 0))) -}}
{{- end }}
{{- if not $operations }}
{{- fail (printf "dapr.accessControl.%s.%s: no methods; leave the caller out instead" $callee $caller) }}
{{- end }}
{{- $_ := set $policies $caller (dict "all" false "operations" $operations) -}}
{{- else }}
{{- fail (printf "dapr.accessControl.%s.%s: give `all` or a list of \"VERB /path\"" $callee $caller) }}
{{- end }}
{{- end }}
{{- $_ := set $result $callee $policies -}}
{{- end }}
{{- toJson $result -}}
{{- end }}

{{/*
The app ids that may invoke one app, as a JSON list (sorted). Takes (dict "root" $ "name" $name).
*/}}
{{- define "shop.callersOf" -}}
{{- $acl := include "shop.accessControl" .root | fromJson -}}
{{- keys (get $acl .name | default dict) | sortAlpha | toJson -}}
{{- end }}

{{/*
The app ids one app may invoke, as a JSON list (sorted). Takes (dict "root" $ "name" $name).
*/}}
{{- define "shop.calleesOf" -}}
{{- $acl := include "shop.accessControl" .root | fromJson -}}
{{- $callees := list -}}
{{- range $callee, $callers := $acl }}
{{- if hasKey $callers $.name }}
{{- $callees = append $callees $callee -}}
{{- end }}
{{- end }}
{{- $callees | sortAlpha | toJson -}}
{{- end }}

{{/*
The Secrets holding one app's two API tokens, as JSON {"app": name, "dapr": name}: "app"
is what its sidecar presents to it (APP_API_TOKEN, dapr.io/app-token-secret), "dapr" what
it presents to its sidecar (DAPR_API_TOKEN, dapr.io/api-token-secret). Takes the app id.
*/}}
{{- define "shop.apiTokenSecrets" -}}
{{- dict "app" (printf "%s-app-api-token" .) "dapr" (printf "%s-dapr-api-token" .) | toJson -}}
{{- end }}

{{/*
The services' tracing environment from dapr.tracing, as JSON {NAME: value}, so that their
spans go to the collector their sidecars send to, sampled alike: nothing when no
endpoint is set (the services then never load the tracing SDK). The services speak OTLP
over HTTP only: with daprd on gRPC they get the same host on OTLP's HTTP port, 4318,
unless otlp.servicesEndpoint names another URL.
*/}}
{{- define "shop.tracingEnv" -}}
{{- $tracing := .Values.dapr.tracing | default dict -}}
{{- $otlp := dig "otlp" dict $tracing -}}
{{- $endpoint := dig "endpoint" "" $otlp | toString -}}
{{- $url := dig "servicesEndpoint" "" $otlp | toString -}}
{{- $env := dict -}}
{{- if and $url (not $endpoint) }}
{{- fail "dapr.tracing.otlp.servicesEndpoint is set but dapr.tracing.otlp.endpoint is empty: give the collector's endpoint, so that the sidecars' spans go where the services' do" }}
{{- end }}
{{- if $endpoint }}
{{- if not $url }}
{{- $hostPort := $endpoint -}}
{{- if eq (dig "protocol" "grpc" $otlp | toString) "grpc" }}
{{- $hostPort = printf "%s:4318" (regexReplaceAll `:[0-9]+$` $endpoint "") -}}
{{- end }}
{{- $url = printf "%s://%s" (ternary "http" "https" (dig "insecure" true $otlp)) $hostPort -}}
{{- end }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" $url -}}
{{- $_ := set $env "OTEL_TRACES_SAMPLER" "parentbased_traceidratio" -}}
{{- $_ := set $env "OTEL_TRACES_SAMPLER_ARG" (dig "samplingRate" "1" $tracing | toString) -}}
{{- end }}
{{- toJson $env -}}
{{- end }}
