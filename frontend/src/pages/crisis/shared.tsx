import { useEffect, useState } from 'react';
import { Alert, Space, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import { levelColor, ruleMessage, timers, type Crisis } from './model';

// useNow ticks every second so the countdowns move.
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return now;
}

// RuleAlert shows a refusal of the workflow rules (409), a missing consent (403) or a used
// or expired link in plain words; anything else falls back to the generic problem box.
export function RuleAlert({ error, formFields }: { error: unknown; formFields?: string[] }) {
  const { t } = useTranslation();
  if (!error) return null;
  const text = ruleMessage(t, error);
  if (!text) return <ProblemAlert error={error} formFields={formFields} />;
  const e = error as ApiError;
  return (
    <Alert data-testid="rule-refusal" data-status={e.status} type={e.status === 403 ? 'warning' : 'error'} showIcon style={{ marginBottom: 16 }}
      message={<span data-testid="rule-message">{text}</span>}
      description={e.status === 403 ? t('crisis.rule.noConsentHint') : undefined} />
  );
}

export function LevelTag({ level }: { level: string }) {
  const { t } = useTranslation();
  return <Tag data-testid="crisis-level" color={levelColor[level]}>{t(`crisis.level.${level}`)}</Tag>;
}

// Timers shows both deadlines with live countdowns; an overdue one is red.
export function Timers({ c, compact }: { c: Pick<Crisis, 'ack_due_at' | 'guardian_due_at' | 'assessed_at' | 'guardian_notified_at' | 'status'>; compact?: boolean }) {
  const { t } = useTranslation();
  const now = useNow();
  return (
    <Space size={4} wrap direction={compact ? 'vertical' : 'horizontal'}>
      {timers(c, now).map((x) => (
        <Tag key={x.kind} data-testid={`timer-${x.kind}`} data-overdue={x.overdue ? 'true' : 'false'}
          color={x.met ? 'green' : x.overdue ? 'red' : 'default'}>
          {t(`crisis.timer.${x.kind}`)}：
          {x.met ? t('crisis.timer.met') : x.overdue ? t('crisis.timer.overdue', { left: x.left.slice(1) }) : t('crisis.timer.left', { left: x.left })}
        </Tag>
      ))}
    </Space>
  );
}

export function Muted({ children }: { children: React.ReactNode }) {
  return <Typography.Text type="secondary">{children}</Typography.Text>;
}
