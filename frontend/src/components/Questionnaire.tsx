import { Radio, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { pick, type Answers, type SheetInstrument } from '../api/screening';

export interface QuestionnaireProps {
  instruments: SheetInstrument[];
  answers: Answers;
  onChange?: (instrumentId: string, item: string, value: number) => void;
  // missing holds "<instrument id>.<item code>" of the items to highlight.
  missing?: Set<string>;
  disabled?: boolean;
  // flagText replaces "please answer" under a highlighted item (e.g. in the editor preview).
  flagText?: string;
  // compact lays the options side by side with their values (paper entry by counselors;
  // never for students).
  compact?: boolean;
}

// Questionnaire shows instruments the way a student answers them: the stem, then each
// item with its options as radio buttons, one under the other (fits a phone). It never
// shows values, scores, bands or labels of a result.
export default function Questionnaire({ instruments, answers, onChange, missing, disabled, flagText, compact }: QuestionnaireProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <div data-testid="questionnaire">
      {instruments.map((ins) => (
        <section key={ins.id} data-testid="q-instrument" data-code={ins.code} style={{ marginBottom: 24 }}>
          <Typography.Title level={5} style={{ marginBottom: 4 }}>{pick(ins.name, lang)}</Typography.Title>
          {pick(ins.stem, lang) && <Typography.Paragraph type="secondary">{pick(ins.stem, lang)}</Typography.Paragraph>}
          {ins.items.map((it, i) => {
            const key = `${ins.id}.${it.code}`;
            const miss = missing?.has(key) ?? false;
            return (
              <div
                key={it.code}
                id={`q-${ins.id}-${it.code}`}
                data-testid="q-item"
                data-item={`${ins.code}.${it.code}`}
                data-missing={miss ? 'true' : undefined}
                style={{
                  padding: '12px 12px 8px',
                  marginBottom: 8,
                  borderRadius: 8,
                  border: `1px solid ${miss ? '#ff4d4f' : '#f0f0f0'}`,
                  background: miss ? '#fff2f0' : '#fff',
                }}
              >
                <Typography.Paragraph style={{ marginBottom: 8 }} strong>
                  {i + 1}. {pick(it.text, lang)}
                </Typography.Paragraph>
                <Radio.Group
                  disabled={disabled}
                  value={answers[ins.id]?.[it.code]}
                  onChange={(e) => onChange?.(ins.id, it.code, e.target.value as number)}
                >
                  <Space direction={compact ? 'horizontal' : 'vertical'} size={compact ? 8 : 4} wrap={compact}>
                    {it.options.map((o) => (
                      <Radio key={o.value} value={o.value} style={{ minHeight: 28 }}>{compact ? `${o.value} ${pick(o.label, lang)}` : pick(o.label, lang)}</Radio>
                    ))}
                  </Space>
                </Radio.Group>
                {miss && <Typography.Text type="danger" data-testid="q-missing" style={{ display: 'block', marginTop: 4 }}>{flagText ?? t('screening.sheet.missingItem')}</Typography.Text>}
              </div>
            );
          })}
        </section>
      ))}
    </div>
  );
}

// setAnswer returns the answers with one item set (immutably).
export function setAnswer(a: Answers, instrumentId: string, item: string, value: number): Answers {
  return { ...a, [instrumentId]: { ...(a[instrumentId] ?? {}), [item]: value } };
}
