{{/*
Names and labels. The component helpers below take a dict:
  (dict "root" $ "stage" "alignment" "role" "server")
where the stage is a top-level values block and the role (server | worker) a block inside it.
*/}}

{{- define "dubset.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dubset.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dubset.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dubset.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dubset.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dubset.labels" -}}
helm.sh/chart: {{ include "dubset.chart" . }}
{{ include "dubset.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: dubset
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Every stage the chart knows, in pipeline order (each a top-level values block). */}}
{{- define "dubset.stages" -}}
media asr diarization separation alignment packaging translation tts render faces quality jobs
{{- end }}

{{/* A stage's ServiceAccount: its own when the chart creates them, else the one it names. */}}
{{- define "dubset.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- printf "%s-%s" (include "dubset.fullname" .root) .stage | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- default "default" (include "dubset.stageValues" . | fromYaml).serviceAccountName }}
{{- end }}
{{- end }}

{{/* <fullname>-<stage>-<role>: the Deployment and PodDisruptionBudget of one role. */}}
{{- define "dubset.component.name" -}}
{{- printf "%s-%s-%s" (include "dubset.fullname" .root) .stage .role | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <fullname>-<stage>: the Service clients dial for a stage's gRPC server. */}}
{{- define "dubset.stage.serviceName" -}}
{{- printf "%s-%s" (include "dubset.fullname" .root) .stage | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dubset.component.selectorLabels" -}}
{{ include "dubset.selectorLabels" .root }}
app.kubernetes.io/component: {{ printf "%s-%s" .stage .role }}
{{- end }}

{{- define "dubset.component.labels" -}}
{{ include "dubset.labels" .root }}
app.kubernetes.io/component: {{ printf "%s-%s" .stage .role }}
dubset.io/stage: {{ .stage }}
dubset.io/role: {{ .role }}
{{- end }}

{{/*
A stage's values (YAML; read it back with fromYaml): its block over stageDefaults. A key of
the block replaces the default whole, except `server` and `worker`, whose keys replace the
default role's one by one (and `autoscaling` inside them key by key), and `models`, merged
key by key. (sprig's merge functions are not used: they cannot set false or 0.)
Takes (dict "root" $ "stage" "media" ...).
*/}}
{{- define "dubset.stageValues" -}}
{{- $d := .root.Values.stageDefaults }}
{{- $b := index .root.Values .stage | default dict }}
{{- $out := dict }}
{{- range $k, $v := $d }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- range $k, $v := $b }}
{{- if and (has $k (list "server" "worker")) (kindIs "map" $v) }}
{{- $role := dict }}
{{- range $rk, $rv := index $d $k }}
{{- $_ := set $role $rk $rv }}
{{- end }}
{{- range $rk, $rv := $v }}
{{- $dv := index $role $rk }}
{{- if and (eq $rk "autoscaling") (kindIs "map" $rv) (kindIs "map" $dv) }}
{{- $_ := set $role $rk (include "dubset.overlay" (list $dv $rv) | fromYaml) }}
{{- else }}
{{- $_ := set $role $rk $rv }}
{{- end }}
{{- end }}
{{- $_ := set $out $k $role }}
{{- else if and (eq $k "models") (kindIs "map" $v) }}
{{- $_ := set $out $k (include "dubset.overlay" (list (index $d $k) $v) | fromYaml) }}
{{- else }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* (list base over): base's keys with over's on top, one level (YAML; false and 0 win). */}}
{{- define "dubset.overlay" -}}
{{- $out := dict }}
{{- range $k, $v := index . 0 }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- range $k, $v := index . 1 }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{- define "dubset.image" -}}
{{- $g := .root.Values.global.image }}
{{- $img := (include "dubset.stageValues" . | fromYaml).image }}
{{- $tag := default (default .root.Chart.AppVersion $g.tag) $img.tag }}
{{- if $g.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $g.registry) $img.repository $tag }}
{{- else }}
{{- printf "%s:%s" $img.repository $tag }}
{{- end }}
{{- end }}

{{/* Seconds the kubelet waits after SIGTERM: preStop sleep + drain + 10 s of slack. */}}
{{- define "dubset.terminationGrace" -}}
{{- $r := index (include "dubset.stageValues" . | fromYaml) .role }}
{{- add (int $r.preStopSleepSeconds) (int $r.drainSeconds) 10 }}
{{- end }}

{{/*
The container environment: the DUBSET_* settings dubset_common.config reads (and the
translation stage's endpoint allow-list and API key file), the stage's own `env` on top, and
the S3 keys from the existing Secret. "init" true: for a model init container.
*/}}
{{- define "dubset.env" -}}
{{- $g := .root.Values.global }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- $r := index $s .role }}
{{- $env := dict
    "DUBSET_BUS" "kafka"
    "DUBSET_KAFKA_BOOTSTRAP" (required "global.kafka.bootstrap is required" $g.kafka.bootstrap)
    "DUBSET_STORE" "s3"
    "DUBSET_S3_ENDPOINT" $g.s3.endpoint
    "DUBSET_S3_BUCKET" (required "global.s3.bucket is required" $g.s3.bucket)
    "DUBSET_S3_REGION" $g.s3.region
    "DUBSET_LOG_LEVEL" $g.logLevel
    "DUBSET_KAFKA_PARTITIONS" (toString (int $g.kafka.partitions))
    "DUBSET_KAFKA_REPLICATION_FACTOR" (toString (int $g.kafka.replicationFactor))
}}
{{- if eq .role "server" }}
{{- $_ := set $env "DUBSET_GRPC_ADDR" (printf "0.0.0.0:%d" (int $g.ports.grpc)) }}
{{- $_ := set $env "DUBSET_GRPC_GRACE_S" (toString (int $r.drainSeconds)) }}
{{- end }}
{{- if include "dubset.loopHealth" . }}
{{- $_ := set $env "DUBSET_HEALTH_STALL_S" (toString (int $s.stallSeconds)) }}
{{- $_ := set $env "DUBSET_HEALTH_STARTUP_S" (toString (int $s.startupSeconds)) }}
{{- end }}
{{- with $g.kafka.topicPrefix }}
{{- $_ := set $env "DUBSET_TOPIC_PREFIX" . }}
{{- end }}
{{- with $g.s3.prefix }}
{{- $_ := set $env "DUBSET_S3_PREFIX" . }}
{{- end }}
{{- if eq .stage "translation" }}
{{- /* Always set: unset, the service would call any URL a request names. */}}
{{- $_ := set $env "DUBSET_TRANSLATION_ENDPOINTS" (join "," (($s.openai | default dict).endpoints | default list)) }}
{{- if and (include "dubset.translation.keySecret" .) (not .init) }}
{{- $_ := set $env "DUBSET_TRANSLATION_API_KEY_FILE" (printf "%s/api-key" (include "dubset.translation.keyDir" .)) }}
{{- end }}
{{- end }}
{{- range $k, $v := $s.env }}
{{- $_ := set $env $k (toString $v) }}
{{- end }}
{{- /* After env: the probes, scrape annotations and monitors all use this port. */}}
{{- $_ := set $env "DUBSET_METRICS_ADDR" "0.0.0.0" }}
{{- $_ := set $env "DUBSET_METRICS_PORT" (toString (int $g.ports.metrics)) }}
{{- range $k := keys $env | sortAlpha }}
- name: {{ $k }}
  value: {{ index $env $k | quote }}
{{- end }}
{{- if and (eq .role "server") $g.grpcAuth $g.grpcAuth.existingSecret }}
- name: DUBSET_GRPC_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $g.grpcAuth.existingSecret }}
      key: {{ $g.grpcAuth.key | default "token" }}
{{- end }}
{{- include "dubset.kafkaSecurityEnv" .root }}
{{- $secret := required "global.existingSecret (a Secret with s3-access-key, s3-secret-key) is required" $g.existingSecret }}
- name: DUBSET_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: s3-access-key
- name: DUBSET_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: s3-secret-key
{{- end }}

{{/*
The translation stage's API key: the Secret translation.openai.apiKey names (empty: none),
mounted read-only into its server and worker containers (never the init containers) as
<keyDir>/api-key, the file DUBSET_TRANSLATION_API_KEY_FILE names.
*/}}
{{- define "dubset.translation.keySecret" -}}
{{- if eq .stage "translation" }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- (($s.openai | default dict).apiKey | default dict).existingSecret | default "" }}
{{- end }}
{{- end }}

{{- define "dubset.translation.keyDir" -}}
/var/run/secrets/dubset/translation
{{- end }}

{{/*
Whether a role runs a Kafka consumer loop whose health the metrics port answers (/healthz,
/readyz): every worker, and the jobs server (its ingest consumer). "true" or empty.
*/}}
{{- define "dubset.loopHealth" -}}
{{- if or (eq .role "worker") (eq .stage "jobs") }}true{{ end }}
{{- end }}

{{/*
The probes of one role. Servers: gRPC health for startup, readiness and liveness. Workers:
HTTP on the metrics port, /readyz (started and holding a broker session) for startup and
readiness, /healthz (the consumer loop is not stalled) for liveness. The jobs server: gRPC
for startup and readiness (it serves JobService), its ingest loop's /healthz for liveness.
The startup probe allows startupSeconds (model loading); the loop decides a stall itself
(stallSeconds), so the liveness probe's own budget only covers a process too wedged to answer.
*/}}
{{- define "dubset.probes" -}}
{{- $g := .root.Values.global }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- $startupFailures := max 1 (div (add (int $s.startupSeconds) 4) 5) }}
{{- $grpc := dict "port" (int $g.ports.grpc) }}
{{- $http := dict "port" "metrics" }}
{{- if eq .role "server" }}
startupProbe:
  grpc:
    {{- toYaml $grpc | nindent 4 }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: {{ $startupFailures }}
readinessProbe:
  grpc:
    {{- toYaml $grpc | nindent 4 }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- else }}
startupProbe:
  httpGet:
    path: /readyz
    {{- toYaml $http | nindent 4 }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: {{ $startupFailures }}
readinessProbe:
  httpGet:
    path: /readyz
    {{- toYaml $http | nindent 4 }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}
livenessProbe:
  {{- if include "dubset.loopHealth" . }}
  httpGet:
    path: /healthz
    {{- toYaml $http | nindent 4 }}
  periodSeconds: 20
  timeoutSeconds: 10
  failureThreshold: 6
  {{- else }}
  grpc:
    {{- toYaml $grpc | nindent 4 }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
  {{- end }}
{{- end }}

{{/*
The pod template of one stage role: what every stage shares (non-root, read-only root with a
/tmp emptyDir, no API token, scrape annotations, secrets from the existing Secret, probes),
plus gRPC port and preStop pause for the server role.
*/}}
{{- define "dubset.podTemplate" -}}
{{- $root := .root }}
{{- $g := $root.Values.global }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- $r := index $s .role }}
{{- /* Annotations would make an annotation-scraping Prometheus scrape twice next to the monitors. */}}
{{- $scrape := and $g.metrics.scrapeAnnotations (not $root.Values.monitoring.serviceMonitor.enabled) -}}
metadata:
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
  {{- if or $scrape $s.podAnnotations }}
  annotations:
    {{- if $scrape }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ int $g.ports.metrics | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $s.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "dubset.serviceAccountName" . }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "dubset.terminationGrace" . }}
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and (gt (int $r.gpus) 0) $g.gpuPool.runtimeClassName }}
  runtimeClassName: {{ $g.gpuPool.runtimeClassName }}
  {{- end }}
  {{- with $s.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with include "dubset.modelInit" . | trim }}
  initContainers:
    {{- . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .stage }}
      image: {{ include "dubset.image" . }}
      imagePullPolicy: {{ $g.image.pullPolicy }}
      args: [{{ ternary "serve" "worker" (eq .role "server") | quote }}]
      ports:
        {{- if eq .role "server" }}
        - name: grpc
          containerPort: {{ int $g.ports.grpc }}
          protocol: TCP
        {{- end }}
        - name: metrics
          containerPort: {{ int $g.ports.metrics }}
          protocol: TCP
      env:
        {{- include "dubset.env" . | trim | nindent 8 }}
      {{- include "dubset.probes" . | trim | nindent 6 }}
      {{- if gt (int $r.preStopSleepSeconds) 0 }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ int $r.preStopSleepSeconds }}
      {{- end }}
      {{- with include "dubset.resources" . | trim }}
      resources:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with $s.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $s.models.enabled }}
        - name: models
          mountPath: /models
          readOnly: true
        {{- end }}
        {{- if include "dubset.translation.keySecret" . }}
        - name: translation-api-key
          mountPath: {{ include "dubset.translation.keyDir" . }}
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        {{- with $s.tmpSizeLimit }}
        sizeLimit: {{ . }}
        {{- end }}
    {{- if $s.models.enabled }}
    - name: models
      {{- if $s.models.existingClaim }}
      persistentVolumeClaim:
        claimName: {{ $s.models.existingClaim }}
        readOnly: true
      {{- else }}
      emptyDir:
        sizeLimit: {{ $s.models.sizeLimit }}
      {{- end }}
    {{- end }}
    {{- with include "dubset.translation.keySecret" . }}
    - name: translation-api-key
      secret:
        secretName: {{ . }}
        # 0440: root-owned, readable by the pod's fsGroup (the service's group) only.
        defaultMode: 288
        items:
          - key: {{ $s.openai.apiKey.key | default "api-key" }}
            path: api-key
    {{- end }}
  {{- $gpu := gt (int $r.gpus) 0 }}
  {{- $nodeSelector := dict }}
  {{- if $gpu }}
  {{- range $k, $v := $g.gpuPool.nodeSelector }}
  {{- $_ := set $nodeSelector $k $v }}
  {{- end }}
  {{- end }}
  {{- range $k, $v := $s.nodeSelector }}
  {{- $_ := set $nodeSelector $k $v }}
  {{- end }}
  {{- with $nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $tolerations := concat (ternary $g.gpuPool.tolerations list $gpu) ($s.tolerations | default list) }}
  {{- with $tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* A role's resources, with nvidia.com/gpu in requests and limits when it asks for GPUs. */}}
{{- define "dubset.resources" -}}
{{- $r := index (include "dubset.stageValues" . | fromYaml) .role }}
{{- $res := deepCopy ($r.resources | default dict) }}
{{- if gt (int $r.gpus) 0 }}
{{- $limits := $res.limits | default dict }}
{{- $_ := set $limits "nvidia.com/gpu" (int $r.gpus) }}
{{- $_ := set $res "limits" $limits }}
{{- $requests := $res.requests | default dict }}
{{- $_ := set $requests "nvidia.com/gpu" (int $r.gpus) }}
{{- $_ := set $res "requests" $requests }}
{{- end }}
{{- with $res }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
Init containers that fill /models: `modelsync sync` of models.prefix from the model bucket,
then each models.prepare command; none with models.existingClaim (a volume you fill).
*/}}
{{- define "dubset.modelInit" -}}
{{- $g := .root.Values.global }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- if and $s.models.enabled (not $s.models.existingClaim) }}
{{- $steps := list }}
{{- if $s.models.prefix }}
{{- $steps = append $steps (list "python" "-m" "dubset_common.modelsync" "sync" "--prefix" $s.models.prefix "--dest" "/models") }}
{{- end }}
{{- $steps = concat $steps ($s.models.prepare | default list) }}
{{- range $i, $argv := $steps }}
- name: {{ ternary "models-sync" (printf "models-prepare-%d" $i) (and (ne $s.models.prefix "") (eq $i 0)) }}
  image: {{ include "dubset.image" $ }}
  imagePullPolicy: {{ $g.image.pullPolicy }}
  command:
    {{- toYaml $argv | nindent 4 }}
  env:
    {{- include "dubset.env" (dict "root" $.root "stage" $.stage "role" "worker" "init" true) | trim | nindent 4 }}
    - name: DUBSET_MODELS_BUCKET
      value: {{ default $g.s3.bucket $g.models.bucket | quote }}
  resources:
    requests:
      cpu: 250m
      memory: 256Mi
    limits:
      memory: 1Gi
  {{- with $s.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: models
      mountPath: /models
{{- end }}
{{- end }}
{{- end }}

{{/* Deployment, and PodDisruptionBudget when enabled, of one stage role. */}}
{{- define "dubset.deployment" -}}
{{- $r := index (include "dubset.stageValues" . | fromYaml) .role -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "dubset.component.name" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
spec:
  {{- if not $r.autoscaling.enabled }}
  replicas: {{ int $r.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  strategy:
    type: {{ $r.strategy | default "RollingUpdate" }}
  selector:
    matchLabels:
      {{- include "dubset.component.selectorLabels" . | nindent 6 }}
  template:
    {{- include "dubset.podTemplate" . | trim | nindent 4 }}
{{- if $r.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "dubset.component.name" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $r.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "dubset.component.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* The Service in front of a stage's gRPC server (role "server"). */}}
{{- define "dubset.service" -}}
{{- $g := .root.Values.global -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "dubset.stage.serviceName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "dubset.component.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ int $g.ports.grpc }}
      targetPort: grpc
      protocol: TCP
      appProtocol: kubernetes.io/h2c
    - name: metrics
      port: {{ int $g.ports.metrics }}
      targetPort: metrics
      protocol: TCP
{{- end }}

{{/*
The autoscaler of one role, when its autoscaling is on: a KEDA ScaledObject on the consumer
lag of the stage's request topic (worker, engine keda), else a CPU HorizontalPodAutoscaler.
*/}}
{{- define "dubset.autoscaler" -}}
{{- $g := .root.Values.global }}
{{- $r := index (include "dubset.stageValues" . | fromYaml) .role }}
{{- $a := $r.autoscaling }}
{{- $name := include "dubset.component.name" . }}
{{- if and (eq .role "worker") (eq $g.autoscaling.engine "keda") }}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicaCount: {{ int $a.minReplicas }}
  maxReplicaCount: {{ int $a.maxReplicas }}
  pollingInterval: 15
  cooldownPeriod: {{ int $a.cooldownSeconds }}
  triggers:
    - type: kafka
      metadata:
        bootstrapServers: {{ $g.kafka.bootstrap | quote }}
        consumerGroup: {{ printf "%sdubset-%s" $g.kafka.topicPrefix .stage | quote }}
        topic: {{ printf "%sdubset.%s.requests.v1" $g.kafka.topicPrefix .stage | quote }}
        lagThreshold: {{ int $a.lagThreshold | quote }}
        activationLagThreshold: "0"
        offsetResetPolicy: earliest
        allowIdleConsumers: "false"
{{- else }}
{{- if lt (int $a.minReplicas) 1 }}
{{- fail (printf "%s.%s.autoscaling.minReplicas is 0: scaling to zero needs global.autoscaling.engine keda (a HorizontalPodAutoscaler keeps at least one replica)" .stage .role) }}
{{- end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ int $a.minReplicas }}
  maxReplicas: {{ int $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int $a.cpuUtilization }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 600
{{- end }}
{{- end }}

{{/* The most replicas a role can run (for the partition check). */}}
{{- define "dubset.maxReplicas" -}}
{{- $r := index (include "dubset.stageValues" . | fromYaml) .role }}
{{- if $r.autoscaling.enabled }}{{ int $r.autoscaling.maxReplicas }}{{ else }}{{ int $r.replicas }}{{ end }}
{{- end }}

{{/* Everything of one stage: server Deployment + Service, worker Deployment, their PDBs and
autoscalers. A worker that can run more replicas than a topic has partitions stops the render:
the extra consumers would idle. */}}
{{- define "dubset.stage" -}}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- $g := .root.Values.global }}
{{- if $s.enabled }}
{{- if $s.server.enabled }}
{{- $role := dict "root" .root "stage" .stage "role" "server" }}
---
{{ include "dubset.deployment" $role }}
---
{{ include "dubset.service" $role }}
{{- if $s.server.autoscaling.enabled }}
---
{{ include "dubset.autoscaler" $role }}
{{- end }}
{{- end }}
{{- if $s.worker.enabled }}
{{- $role := dict "root" .root "stage" .stage "role" "worker" }}
{{- $most := include "dubset.maxReplicas" $role | int }}
{{- if gt $most (int $g.kafka.partitions) }}
{{- fail (printf "%s.worker can run %d replicas but global.kafka.partitions is %d: a consumer group uses one consumer per partition; raise global.kafka.partitions" .stage $most (int $g.kafka.partitions)) }}
{{- end }}
---
{{ include "dubset.deployment" $role }}
{{- if $s.worker.autoscaling.enabled }}
---
{{ include "dubset.autoscaler" $role }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Kafka TLS / SASL settings (global.kafka.security), for the services and the topics Job; the
SASL user and password come from global.existingSecret, never from values.
*/}}
{{- define "dubset.kafkaSecurityEnv" -}}
{{- $g := .Values.global }}
{{- $k := $g.kafka.security | default dict }}
{{- $protocol := $k.protocol | default "PLAINTEXT" }}
{{- if ne $protocol "PLAINTEXT" }}
- name: DUBSET_KAFKA_SECURITY_PROTOCOL
  value: {{ $protocol | quote }}
{{- with $k.caFile }}
- name: DUBSET_KAFKA_SSL_CAFILE
  value: {{ . | quote }}
{{- end }}
{{- if hasPrefix "SASL_" $protocol }}
{{- $secret := required "global.existingSecret (with kafka-sasl-username, kafka-sasl-password) is required for SASL" $g.existingSecret }}
- name: DUBSET_KAFKA_SASL_MECHANISM
  value: {{ $k.saslMechanism | default "SCRAM-SHA-512" | quote }}
- name: DUBSET_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: kafka-sasl-username
- name: DUBSET_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: kafka-sasl-password
{{- end }}
{{- end }}
{{- end }}
