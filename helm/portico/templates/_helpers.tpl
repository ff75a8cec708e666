{{- define "portico.name" -}}portico{{- end -}}

{{- define "portico.labels" -}}
app.kubernetes.io/name: portico
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "portico.selector" -}}
app.kubernetes.io/name: portico
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portico.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "portico.operator" -}}{{ .Release.Name }}-operator{{- end -}}
{{- define "portico.speaker" -}}{{ .Release.Name }}-speaker{{- end -}}
{{- define "portico.webhookService" -}}{{ .Release.Name }}-webhook{{- end -}}
{{- define "portico.webhookSecret" -}}{{ .Release.Name }}-webhook-cert{{- end -}}
{{- define "portico.validatingWebhook" -}}{{ .Release.Name }}-{{ .Release.Namespace }}-validating{{- end -}}
{{- define "portico.mutatingWebhook" -}}{{ .Release.Name }}-{{ .Release.Namespace }}-mutating{{- end -}}
