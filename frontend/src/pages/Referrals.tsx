import { Card, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import { ReferralList } from './crisis/Referrals';

// Referrals (转介): every referral of the school with its closed-loop status; a row opens
// the referral (status, feedback, return-to-school plan, a fresh link).
export default function Referrals() {
  const { t } = useTranslation();
  const { current } = useSession();
  if (!current?.school_id) return null;
  return (
    <Card title={t('menu.referrals')}>
      <Typography.Paragraph type="secondary">{t('referral.pageHint')}</Typography.Paragraph>
      <ReferralList base={`/api/v1/schools/${current.school_id}`} />
    </Card>
  );
}
