import { useState } from 'react';
import { Button, Card, Space, Table, Tag, Typography } from 'antd';
import { AlertOutlined, SendOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { api } from '../../api/client';
import ProblemAlert from '../../components/ProblemAlert';
import type { Crisis } from '../crisis/model';
import { LevelTag, Timers } from '../crisis/shared';
import { ReferralList } from '../crisis/Referrals';
import ReferralWizard from '../crisis/ReferralWizard';
import { OpenCrisisModal } from '../Crises';

// CrisisTab is the case file's crisis and referral tab: the student's crises (a link opens
// the crisis screen), opening a crisis, the referrals and a new referral (consent basis,
// or the imminent danger of the open crisis).
export default function CrisisTab({ base, id, studentId, studentName }: { base: string; id: string; studentId?: string; studentName?: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [opening, setOpening] = useState(false);
  const [referring, setReferring] = useState(false);
  const list = useQuery({ queryKey: ['crises', base, 'all'], queryFn: () => api<{ items: Crisis[] }>('GET', `${base}/crises?status=all`) });
  const mine = (list.data?.items ?? []).filter((c) => c.case_file_id === id);
  const open = mine.find((c) => c.status === 'open');
  return (
    <div data-testid="case-file-crises">
      <ProblemAlert error={list.error} />
      <Card size="small" title={t('crisis.tab')} style={{ marginBottom: 16 }}
        extra={!open && studentId && <Button danger size="small" icon={<AlertOutlined />} onClick={() => setOpening(true)}>{t('crisis.open')}</Button>}>
        <Table size="small" rowKey="id" dataSource={mine} pagination={false} locale={{ emptyText: t('crisis.none') }}
          columns={[
            { title: t('crisis.openedAt'), dataIndex: 'opened_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
            { title: t('crisis.field.level'), dataIndex: 'level', render: (v: string) => <LevelTag level={v} /> },
            { title: t('crisis.statusLabel'), dataIndex: 'status', render: (v: string) => <Tag>{t(`crisis.status.${v}`)}</Tag> },
            { title: t('crisis.timers'), key: 'tm', render: (_: unknown, c: Crisis) => <Timers c={c} compact /> },
            { title: '', key: 'go', render: (_: unknown, c: Crisis) => <Link to={`/crises?crisis=${c.id}`}>{t('crisis.view')}</Link> },
          ]} />
      </Card>
      <Card size="small" title={t('referral.title')}
        extra={<Button size="small" icon={<SendOutlined />} data-testid="case-file-refer" onClick={() => setReferring(true)}>{t('referral.new')}</Button>}>
        {open && <Typography.Paragraph type="secondary">{t('referral.fromCrisisHint')}</Typography.Paragraph>}
        <Space direction="vertical" style={{ width: '100%' }}>
          <ReferralList base={base} caseFileId={id} />
        </Space>
      </Card>
      {opening && studentId && (
        <OpenCrisisModal base={base} from={{ source: 'counselor', student_id: studentId, label: studentName }}
          onClose={() => setOpening(false)}
          onOpened={(c) => { setOpening(false); void qc.invalidateQueries({ queryKey: ['crises', base] }); navigate(`/crises?crisis=${c.id}`); }} />
      )}
      {referring && <ReferralWizard base={base} caseFileId={id} crisis={open} onClose={() => setReferring(false)} />}
    </div>
  );
}
