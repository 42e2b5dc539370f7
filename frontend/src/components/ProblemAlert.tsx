import { Alert } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import type { FieldError } from '../api/types';

const knownStatuses = [400, 403, 404, 409, 413, 415, 422, 429, 500, 503];

// problemHeading is the localized one-line summary of an error.
export function problemHeading(t: TFunction, error: unknown): string {
  if (!(error instanceof ApiError)) return t('problem.network');
  return knownStatuses.includes(error.status) ? t(`problem.${error.status}`) : error.title;
}

// describeFieldError: the localized meaning of the code, then the server's own words.
export function describeFieldError(t: TFunction, exists: (key: string) => boolean, f: FieldError): string {
  const key = `fieldError.${f.code}`;
  if (!exists(key)) return f.message;
  return f.message ? t('fieldError.withMessage', { label: t(key), message: f.message }) : t(key);
}

// ProblemAlert shows an API problem: a localized heading, the server's title/detail, field
// errors that no form field displays (formFields lists the fields the form shows itself), and the request id for support.
export default function ProblemAlert({ error, formFields = [] }: { error: unknown; formFields?: string[] }) {
  const { t, i18n } = useTranslation();
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  const fields = e ? e.errors.filter((f) => (f.field ? !formFields.includes(f.field) : !f.row && !f.column)) : [];
  const serverText = e ? [e.title, e.detail].filter(Boolean).join(' — ') : '';
  return (
    <Alert
      data-testid="problem"
      type="error"
      showIcon
      style={{ marginBottom: 16 }}
      message={problemHeading(t, error)}
      description={
        e ? (
          <>
            {serverText && <div data-testid="problem-detail">{serverText}</div>}
            {fields.map((f, i) => (
              <div key={i} data-testid="problem-field">
                {f.field ? `${f.field}: ` : ''}
                {describeFieldError(t, (k) => i18n.exists(k), f)}
              </div>
            ))}
            {e.requestId && (
              <small style={{ color: '#8c8c8c' }}>
                {t('common.requestId')}: {e.requestId}
              </small>
            )}
          </>
        ) : undefined
      }
    />
  );
}

// fieldErrors maps an API validation problem onto antd Form fields (form.setFields).
export function fieldErrors(error: unknown, t: TFunction, exists: (key: string) => boolean): { name: string; errors: string[] }[] {
  if (!(error instanceof ApiError)) return [];
  const byField = new Map<string, string[]>();
  for (const f of error.errors) {
    if (!f.field) continue;
    byField.set(f.field, [...(byField.get(f.field) ?? []), describeFieldError(t, exists, f)]);
  }
  return [...byField].map(([name, errors]) => ({ name, errors }));
}

// useFieldErrors returns fieldErrors bound to the current language.
export function useFieldErrors() {
  const { t, i18n } = useTranslation();
  return (error: unknown) => fieldErrors(error, t, (k) => i18n.exists(k));
}
