{{- define "xinqiao.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "xinqiao.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "xinqiao.labels" -}}
app.kubernetes.io/name: {{ include "xinqiao.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "xinqiao.selector" -}}
app.kubernetes.io/name: {{ include "xinqiao.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "xinqiao.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "xinqiao.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "xinqiao.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
{{- define "xinqiao.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ include "xinqiao.fullname" . }}{{- end -}}
{{- end -}}
{{/* Secret sources are mandatory: production needs an existing Secret. */}}
{{- define "xinqiao.checkSecrets" -}}
{{- if not .Values.existingSecret -}}
{{- if eq .Values.env "production" -}}
{{- fail "production needs existingSecret: the name of a Secret with database-url, migrate-database-url, redis-password, s3-access-key, s3-secret-key, master-key" -}}
{{- end -}}
{{- $_ := required "secrets.databaseURL is required without existingSecret" .Values.secrets.databaseURL -}}
{{- $_ := required "secrets.migrateDatabaseURL is required without existingSecret" .Values.secrets.migrateDatabaseURL -}}
{{- end -}}
{{- end -}}
{{- define "xinqiao.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
{{- define "xinqiao.env" -}}
- name: XINQIAO_DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: database-url } }
- name: XINQIAO_MIGRATE_DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: migrate-database-url } }
- name: XINQIAO_REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: redis-password, optional: true } }
- name: XINQIAO_S3_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: s3-access-key } }
- name: XINQIAO_S3_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: s3-secret-key } }
- name: XINQIAO_MASTER_KEY
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: master-key } }
- name: XINQIAO_SMTP_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ include "xinqiao.secretName" . }}, key: smtp-password, optional: true } }
{{- end -}}
