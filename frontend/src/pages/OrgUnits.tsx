import { Card } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import OrgTree from '../components/OrgTree';

// OrgUnits: a school leader's grades (or departments) and homerooms. The tree itself tells
// grades from departments; an empty tree lets the leader pick the kind of the first level.
export default function OrgUnits() {
  const { t } = useTranslation();
  const { current } = useSession();
  if (!current?.school_id) return null;
  return (
    <Card title={`${current.school_name ?? ''} · ${t('menu.orgUnits')}`}>
      <OrgTree schoolId={current.school_id} editable={current.role === 'school_leader'} />
    </Card>
  );
}
