import { Card } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import OrgTree from '../components/OrgTree';

export default function OrgUnits() {
  const { t } = useTranslation();
  const { current } = useSession();
  if (!current?.school_id) return null;
  // The tree itself tells grades from departments; a vocational school's top level is departments.
  return (
    <Card title={`${current.school_name} · ${t('menu.orgUnits')}`}>
      <OrgTree schoolId={current.school_id} kind={current.school_name?.includes('职业') ? 'vocational' : 'k12'} editable={current.role === 'school_leader'} />
    </Card>
  );
}
