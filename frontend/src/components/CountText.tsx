import { Tag, Tooltip } from 'antd';
import { EyeInvisibleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { isSuppressed, type Count } from '../api/screening';

// CountText shows a de-identified count as the server gives it. A suppressed count ("<5")
// is shown as such, with a visible marker and an explanation on hover.
export default function CountText({ value }: { value: Count | number | null | undefined }) {
  const { t } = useTranslation();
  if (value === null || value === undefined) return <span>—</span>;
  if (isSuppressed(value)) {
    return (
      <Tooltip title={t('screening.suppressedHint')}>
        <Tag data-testid="count-suppressed" icon={<EyeInvisibleOutlined />} color="default" style={{ marginInlineEnd: 0 }}>
          {String(value)}
        </Tag>
      </Tooltip>
    );
  }
  return <span data-testid="count">{String(value)}</span>;
}
