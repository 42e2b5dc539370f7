import { Alert } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

// ProblemAlert shows an API problem: its detail, field errors and request id.
export default function ProblemAlert({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <Alert
      data-testid="problem"
      type="error"
      showIcon
      style={{ marginBottom: 16 }}
      message={e ? e.detail || e.title : t('common.error')}
      description={
        e && (e.errors.length > 0 || e.requestId) ? (
          <>
            {e.errors.filter((f) => f.field).map((f, i) => (
              <div key={i}>
                {f.field}: {f.message}
              </div>
            ))}
            {e.requestId && (
              <small>
                {t('common.requestId')}: {e.requestId}
              </small>
            )}
          </>
        ) : undefined
      }
    />
  );
}

// fieldErrors maps an API validation problem onto antd Form fields.
export function fieldErrors(error: unknown): { name: string; errors: string[] }[] {
  if (!(error instanceof ApiError)) return [];
  return error.errors.filter((f) => f.field).map((f) => ({ name: f.field!, errors: [f.message] }));
}
