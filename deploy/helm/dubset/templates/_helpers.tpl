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

{{- define "dubset.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dubset.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
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
default role's one by one. (sprig's merge functions are not used: they cannot set false or 0.)
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
{{- $_ := set $role $rk $rv }}
{{- end }}
{{- $_ := set $out $k $role }}
{{- else }}
{{- $_ := set $out $k $v }}
{{- end }}
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
The container environment: the DUBSET_* settings dubset_common.config reads, the stage's own
`env` on top, and the S3 keys from the existing Secret.
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
    "DUBSET_METRICS_ADDR" "0.0.0.0"
    "DUBSET_METRICS_PORT" (toString (int $g.ports.metrics))
}}
{{- if eq .role "server" }}
{{- $_ := set $env "DUBSET_GRPC_ADDR" (printf "0.0.0.0:%d" (int $g.ports.grpc)) }}
{{- $_ := set $env "DUBSET_GRPC_GRACE_S" (toString (int $r.drainSeconds)) }}
{{- end }}
{{- with $g.kafka.topicPrefix }}
{{- $_ := set $env "DUBSET_TOPIC_PREFIX" . }}
{{- end }}
{{- with $g.s3.prefix }}
{{- $_ := set $env "DUBSET_S3_PREFIX" . }}
{{- end }}
{{- range $k, $v := $s.env }}
{{- $_ := set $env $k (toString $v) }}
{{- end }}
{{- range $k := keys $env | sortAlpha }}
- name: {{ $k }}
  value: {{ index $env $k | quote }}
{{- end }}
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
The pod template of one stage role: what every stage shares (non-root, read-only root with a
/tmp emptyDir, no API token, scrape annotations, secrets from the existing Secret), plus gRPC
port, probes and preStop pause for the server role.
*/}}
{{- define "dubset.podTemplate" -}}
{{- $root := .root }}
{{- $g := $root.Values.global }}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- $r := index $s .role -}}
metadata:
  labels:
    {{- include "dubset.component.labels" . | nindent 4 }}
  {{- if or $g.metrics.scrapeAnnotations $s.podAnnotations }}
  annotations:
    {{- if $g.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ int $g.ports.metrics | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $s.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "dubset.serviceAccountName" $root }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "dubset.terminationGrace" . }}
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
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
      {{- if eq .role "server" }}
      readinessProbe:
        grpc:
          port: {{ int $g.ports.grpc }}
        periodSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
      livenessProbe:
        grpc:
          port: {{ int $g.ports.grpc }}
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      {{- end }}
      {{- if gt (int $r.preStopSleepSeconds) 0 }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ int $r.preStopSleepSeconds }}
      {{- end }}
      {{- with $r.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        {{- with $s.tmpSizeLimit }}
        sizeLimit: {{ . }}
        {{- end }}
  {{- with $s.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
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
  replicas: {{ int $r.replicas }}
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

{{/* Everything of one stage: server Deployment + Service, worker Deployment, their PDBs. */}}
{{- define "dubset.stage" -}}
{{- $s := include "dubset.stageValues" . | fromYaml }}
{{- if $s.enabled }}
{{- if $s.server.enabled }}
---
{{ include "dubset.deployment" (dict "root" .root "stage" .stage "role" "server") }}
---
{{ include "dubset.service" (dict "root" .root "stage" .stage "role" "server") }}
{{- end }}
{{- if $s.worker.enabled }}
---
{{ include "dubset.deployment" (dict "root" .root "stage" .stage "role" "worker") }}
{{- end }}
{{- end }}
{{- end }}
