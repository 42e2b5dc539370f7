import { useState } from 'react';
import { App, Button, type ButtonProps, Card, Form, Input, Modal, Select, Switch, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import { institutionKinds, type Institution } from './crisis/model';

// Institutions (合作机构): the district's directory of partner hospitals, clinics and
// hotlines; the district administrator adds and edits them, supervisors read.
export default function Institutions() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.district_id;
  const canEdit = current?.role === 'district_admin';
  const base = `/api/v1/districts/${district}/institutions`;
  const [editing, setEditing] = useState<Institution | 'new' | null>(null);
  const [form] = Form.useForm();
  const list = useQuery({ queryKey: ['institutions', base], enabled: !!district, queryFn: () => api<{ items: Institution[] }>('GET', base) });
  const save = useMutation({
    mutationFn: (v: Omit<Institution, 'id'>) =>
      editing === 'new' ? api<Institution>('POST', base, v) : api<Institution>('PATCH', `${base}/${(editing as Institution).id}`, v),
    onSuccess: () => {
      message.success(t('institution.saved'));
      setEditing(null);
      void qc.invalidateQueries({ queryKey: ['institutions'] });
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const start = (i: Institution | 'new') => {
    save.reset();
    setEditing(i);
    form.setFieldsValue(i === 'new' ? { name: '', kind: 'hospital', services: [], contact: '', accepts_direct: true, active: true } : i);
  };
  return (
    <Card title={t('menu.institutions')}
      extra={canEdit && <Button data-testid="institution-new" type="primary" icon={<PlusOutlined />} onClick={() => start('new')}>{t('institution.new')}</Button>}>
      <ProblemAlert error={list.error} />
      <Table data-testid="institutions-table" rowKey="id" loading={list.isLoading} dataSource={list.data?.items ?? []} pagination={false}
        locale={{ emptyText: t('institution.none') }}
        columns={[
          { title: t('institution.name'), dataIndex: 'name' },
          { title: t('institution.kindLabel'), dataIndex: 'kind', render: (v: string) => t(`institution.kind.${v}`) },
          { title: t('institution.services'), dataIndex: 'services', render: (v: string[]) => v.map((s) => <Tag key={s}>{s}</Tag>) },
          { title: t('institution.contact'), dataIndex: 'contact' },
          { title: t('institution.acceptsDirect'), dataIndex: 'accepts_direct', render: (v: boolean) => (v ? t('common.yes') : t('common.no')) },
          { title: t('institution.activeLabel'), dataIndex: 'active', render: (v: boolean) => <Tag color={v ? 'green' : 'default'}>{t(v ? 'institution.active' : 'institution.inactive')}</Tag> },
          ...(canEdit ? [{ title: '', key: 'e', render: (_: unknown, i: Institution) => <a data-testid="institution-edit" onClick={() => start(i)}>{t('institution.edit')}</a> }] : []),
        ]} />
      <Modal open={!!editing} title={t(editing === 'new' ? 'institution.new' : 'institution.edit')} onCancel={() => setEditing(null)} onOk={() => form.submit()}
        confirmLoading={save.isPending} okButtonProps={{ 'data-testid': 'institution-ok' } as ButtonProps} forceRender>
        <ProblemAlert error={save.error} formFields={['name', 'kind', 'services', 'contact']} />
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="name" label={t('institution.name')} rules={[{ required: true, whitespace: true }, { max: 200 }]}>
            <Input data-testid="institution-name" />
          </Form.Item>
          <Form.Item name="kind" label={t('institution.kindLabel')} rules={[{ required: true }]}>
            <Select data-testid="institution-kind" options={institutionKinds.map((k) => ({ value: k, label: t(`institution.kind.${k}`) }))} />
          </Form.Item>
          <Form.Item name="services" label={t('institution.services')} extra={t('institution.servicesHint')}>
            <Select data-testid="institution-services" mode="tags" tokenSeparators={[',', '，', '、']} open={false} />
          </Form.Item>
          <Form.Item name="contact" label={t('institution.contact')} rules={[{ max: 500 }]}>
            <Input.TextArea data-testid="institution-contact" rows={2} />
          </Form.Item>
          <Form.Item name="accepts_direct" label={t('institution.acceptsDirect')} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="active" label={t('institution.activeLabel')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
