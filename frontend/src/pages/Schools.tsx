import { useState } from 'react';
import { App, Button, Card, Col, Form, Input, Modal, Row, Select, Table, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { School } from '../api/types';
import { useSession } from '../session';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert, { fieldErrors } from '../components/ProblemAlert';
import OrgTree from '../components/OrgTree';

export default function Schools() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const path = district ? `/api/v1/districts/${district}/schools` : null;
  const list = useCursorList<School>(['schools', district], path);
  const [selected, setSelected] = useState<School | null>(null);
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const create = useMutation({
    mutationFn: (v: { name: string; code: string; kind: string }) => api<School>('POST', path!, v),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: ['schools', district] });
      setOpen(false);
      form.resetFields();
      setSelected(s);
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(fieldErrors(e)),
  });
  const canWrite = current?.role === 'district_admin';
  return (
    <Row gutter={16}>
      <Col xs={24} xl={14}>
        <Card
          title={t('menu.schools')}
          extra={canWrite && <Button data-testid="school-new" type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>{t('school.new')}</Button>}
        >
          <ProblemAlert error={list.error} />
          <Table
            data-testid="schools-table"
            rowKey="id"
            size="middle"
            loading={list.isLoading}
            dataSource={list.items}
            pagination={false}
            onRow={(s) => ({ onClick: () => setSelected(s), style: { cursor: 'pointer' } })}
            rowClassName={(s) => (s.id === selected?.id ? 'ant-table-row-selected' : '')}
            columns={[
              { title: t('common.name'), dataIndex: 'name' },
              { title: t('common.code'), dataIndex: 'code' },
              { title: t('common.kind'), dataIndex: 'kind', render: (k: School['kind']) => <Tag>{t(`school.kind.${k}`)}</Tag> },
            ]}
          />
          {list.hasNextPage && <Button onClick={() => list.fetchNextPage()} style={{ marginTop: 12 }}>{t('common.loadMore')}</Button>}
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        {selected && (
          <Card title={`${selected.name} · ${t('school.orgTree')}`}>
            <OrgTree schoolId={selected.id} kind={selected.kind} editable={!!canWrite} />
          </Card>
        )}
      </Col>
      <Modal open={open} title={t('school.new')} onCancel={() => setOpen(false)} onOk={() => form.submit()} confirmLoading={create.isPending} destroyOnHidden>
        <ProblemAlert error={create.error} />
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ kind: 'k12' }}>
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true }]}>
            <Input data-testid="school-name" maxLength={100} />
          </Form.Item>
          <Form.Item name="code" label={t('common.code')} rules={[{ required: true, pattern: /^[a-z0-9-]{2,32}$/ }]}>
            <Input data-testid="school-code" maxLength={32} />
          </Form.Item>
          <Form.Item name="kind" label={t('common.kind')}>
            <Select options={[{ value: 'k12', label: t('school.kind.k12') }, { value: 'vocational', label: t('school.kind.vocational') }]} />
          </Form.Item>
        </Form>
      </Modal>
    </Row>
  );
}
