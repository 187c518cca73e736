{{/* The chart's name, at most 63 characters. */}}
{{- define "deepseek-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the release name alone when it already holds the chart's name. */}}
{{- define "deepseek-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "deepseek-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "deepseek-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{/* Labels of every object: the chart's, then commonLabels. */}}
{{- define "deepseek-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "deepseek-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: deepseek-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
metadata.annotations (at the indentation of metadata's fields) when commonAnnotations or extra ones (the dict's
"extra") are given; nothing otherwise.
*/}}
{{- define "deepseek-operator.annotations" -}}
{{- $all := merge (dict) (.extra | default dict) (.root.Values.commonAnnotations | default dict) -}}
{{- with $all }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "deepseek-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "deepseek-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
An image reference from a dict of image (registry, repository, tag, digest), global and appVersion:
global.imageRegistry replaces the image's registry, and a digest wins over the tag, which defaults to appVersion.
*/}}
{{- define "deepseek-operator.image" -}}
{{- $registry := .global.imageRegistry | default .image.registry -}}
{{- $reference := .image.repository -}}
{{- if $registry -}}
{{- $reference = printf "%s/%s" (trimSuffix "/" $registry) $reference -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $reference .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $reference (.image.tag | default .appVersion) -}}
{{- end -}}
{{- end -}}

{{/* Whether an "auto"/true/false value (the dict's "value") is on: "auto" asks whether the cluster serves monitoring.coreos.com/v1. */}}
{{- define "deepseek-operator.monitoringEnabled" -}}
{{- if eq (toString .value) "auto" -}}
{{- if .root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end -}}
{{- else if .value -}}
true
{{- end -}}
{{- end -}}

{{/*
The generated rules (files/rbac, copied from config/rbac by `make manifests`) split by scope: in namespaced mode a
Role cannot grant cluster-scoped resources, which stay in a ClusterRole.
*/}}
{{- define "deepseek-operator.clusterScopedResources" -}}
customresourcedefinitions
{{- end -}}

{{- define "deepseek-operator.rules" -}}
{{- $clusterScoped := splitList " " (include "deepseek-operator.clusterScopedResources" .root) -}}
{{- $rules := list -}}
{{- range (.root.Files.Get "files/rbac/role.yaml" | fromYaml).rules -}}
{{- $cluster := false -}}
{{- range .resources -}}
{{- if has . $clusterScoped }}{{ $cluster = true }}{{ end -}}
{{- end -}}
{{- if or (eq $.scope "all") (and (eq $.scope "cluster") $cluster) (and (eq $.scope "namespace") (not $cluster)) -}}
{{- $rules = append $rules . -}}
{{- end -}}
{{- end -}}
{{- if not $rules -}}
{{- fail "files/rbac/role.yaml holds no rules: run make manifests" -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}
