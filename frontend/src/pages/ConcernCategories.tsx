import { useState } from 'react';
import { App, Button, Card, Form, Input, InputNumber, Modal, Switch, Table, Typography } from 'antd';
import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../session';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import type { ConcernCategory } from './casefile/categories';

// ConcernCategories is the district administrator's concern taxonomy (关注类别): the
// categories counselors tag sessions with. Codes are permanent; a category no longer
// used is deactivated, never deleted.
export default function ConcernCategories() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const path = district ? `/api/v1/districts/${district}/concern-categories` : null;
  const list = useQuery({ queryKey: ['concern-categories-admin', district], enabled: !!path, queryFn: () => api<{ items: ConcernCategory[] }>('GET', path!) });
  const [editing, setEditing] = useState<ConcernCategory | 'new' | null>(null);
  const [form] = Form.useForm();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['concern-categories-admin', district] });
    void qc.invalidateQueries({ queryKey: ['concern-categories'] });
  };
  const close = () => {
    setEditing(null);
    form.resetFields();
  };
  const save = useMutation({
    mutationFn: (v: Partial<ConcernCategory>) =>
      editing === 'new'
        ? api<ConcernCategory>('POST', path!, { code: v.code?.trim(), name_zh: v.name_zh, name_en: v.name_en, position: v.position ?? undefined })
        : api<ConcernCategory>('PATCH', `${path}/${(editing as ConcernCategory).code}`, { name_zh: v.name_zh, name_en: v.name_en, position: v.position }),
    onSuccess: () => {
      refresh();
      close();
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const toggle = useMutation({
    mutationFn: (c: ConcernCategory) => api('PATCH', `${path}/${c.code}`, { active: !c.active }),
    onSuccess: refresh,
  });
  return (
    <Card
      title={t('menu.concernCategories')}
      extra={
        <Button data-testid="category-new" type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
          {t('category.new')}
        </Button>
      }
    >
      <ProblemAlert error={list.error || toggle.error} />
      <Table<ConcernCategory>
        data-testid="categories-table"
        rowKey="code"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        columns={[
          { title: t('category.position'), dataIndex: 'position', width: 80 },
          { title: t('common.code'), dataIndex: 'code' },
          { title: t('category.nameZh'), dataIndex: 'name_zh' },
          { title: t('category.nameEn'), dataIndex: 'name_en' },
          {
            title: t('category.active'), dataIndex: 'active',
            render: (_: boolean, c) => <Switch size="small" checked={c.active} loading={toggle.isPending && toggle.variables?.code === c.code} onChange={() => toggle.mutate(c)} />,
          },
          {
            title: '', key: 'edit',
            render: (_, c) => (
              <Button size="small" icon={<EditOutlined />} onClick={() => { form.setFieldsValue(c); setEditing(c); }}>{t('common.edit')}</Button>
            ),
          },
        ]}
      />
      <Modal open={editing !== null} title={editing === 'new' ? t('category.new') : t('category.edit')} onCancel={close} onOk={() => form.submit()}
        confirmLoading={save.isPending} destroyOnHidden>
        <ProblemAlert error={save.error} />
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="code" label={t('common.code')} extra={editing === 'new' ? t('category.codeHint') : undefined}
            rules={[{ required: true, pattern: /^[a-z][a-z0-9_]{1,39}$/, message: t('category.codeHint') }]}>
            <Input disabled={editing !== 'new'} />
          </Form.Item>
          <Form.Item name="name_zh" label={t('category.nameZh')} rules={[{ required: true, max: 40 }]}><Input /></Form.Item>
          <Form.Item name="name_en" label={t('category.nameEn')} rules={[{ required: true, max: 60 }]}><Input /></Form.Item>
          <Form.Item name="position" label={t('category.position')}><InputNumber min={0} max={10000} /></Form.Item>
        </Form>
      </Modal>
      <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>{t('category.hint')}</Typography.Paragraph>
    </Card>
  );
}
