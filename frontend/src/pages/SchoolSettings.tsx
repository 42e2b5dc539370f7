import { App, Card, Space, Switch, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import ProblemAlert from '../components/ProblemAlert';

interface Settings {
  caseload_only: boolean;
  updated_at: string | null;
}

// SchoolSettingsCard shows the school's settings; school leaders change them.
export default function SchoolSettingsCard({ school, editable }: { school: string; editable: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const path = `/api/v1/schools/${school}/settings`;
  const settings = useQuery({ queryKey: ['school-settings', school], queryFn: () => api<Settings>('GET', path) });
  const save = useMutation({
    mutationFn: (v: Partial<Settings>) => api<Settings>('PUT', path, v),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['school-settings', school] });
      message.success(t('settings.saved'));
    },
  });
  return (
    <Card size="small" title={t('settings.title')} style={{ marginBottom: 16 }}>
      <ProblemAlert error={settings.error || save.error} />
      <Space align="start">
        <Switch
          data-testid="caseload-only"
          checked={settings.data?.caseload_only ?? false}
          disabled={!editable || settings.isLoading}
          loading={save.isPending}
          onChange={(v) => save.mutate({ caseload_only: v })}
        />
        <div>
          <Typography.Text strong>{t('settings.caseloadOnly')}</Typography.Text>
          <Typography.Paragraph type="secondary" style={{ margin: 0 }}>{t('settings.caseloadOnlyHelp')}</Typography.Paragraph>
        </div>
      </Space>
    </Card>
  );
}
