import { useState } from 'react';
import { App, Button, Card, Col, Empty, Form, Input, Modal, Row, Select, Table, Tag } from 'antd';
import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs from 'dayjs';
import { api } from '../api/client';
import type { School } from '../api/types';
import { useSession } from '../session';
import { useCursorList } from '../components/useCursorList';
import ProblemAlert, { useFieldErrors } from '../components/ProblemAlert';
import OrgTree from '../components/OrgTree';

const codePattern = /^[a-z0-9-]{2,32}$/;

export default function Schools() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { current } = useSession();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const district = current?.scope_type === 'district' ? current.district_id : null;
  const path = district ? `/api/v1/districts/${district}/schools` : null;
  const list = useCursorList<School>(['schools', district], path);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selected = list.items.find((s) => s.id === selectedId) ?? list.items[0];
  const [editing, setEditing] = useState<School | 'new' | null>(null);
  const [form] = Form.useForm();
  const close = () => {
    setEditing(null);
    form.resetFields();
  };
  const save = useMutation({
    mutationFn: (v: { name: string; code: string; kind?: string }) =>
      editing === 'new' || editing === null
        ? api<School>('POST', path!, { name: v.name.trim(), code: v.code.trim(), kind: v.kind })
        : api<School>('PATCH', `${path}/${editing.id}`, { name: v.name.trim(), code: v.code.trim() }),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: ['schools', district] });
      void qc.invalidateQueries({ queryKey: ['schools-all'] });
      close();
      setSelectedId(s.id);
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const canWrite = current?.role === 'district_admin';
  const openEdit = (s: School) => {
    form.setFieldsValue({ name: s.name, code: s.code });
    setEditing(s);
  };
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={14}>
        <Card
          title={t('menu.schools')}
          extra={
            canWrite && (
              <Button data-testid="school-new" type="primary" icon={<PlusOutlined />}
                onClick={() => { form.setFieldsValue({ kind: 'k12' }); setEditing('new'); }}>
                {t('school.new')}
              </Button>
            )
          }
        >
          <ProblemAlert error={list.error} />
          <Table<School>
            data-testid="schools-table"
            rowKey="id"
            size="middle"
            loading={list.isLoading}
            dataSource={list.items}
            pagination={false}
            onRow={(s) => ({ onClick: () => setSelectedId(s.id), style: { cursor: 'pointer' } })}
            rowClassName={(s) => (s.id === selected?.id ? 'ant-table-row-selected' : '')}
            columns={[
              { title: t('common.name'), dataIndex: 'name' },
              { title: t('common.code'), dataIndex: 'code' },
              { title: t('common.kind'), dataIndex: 'kind', render: (k: School['kind']) => <Tag color={k === 'vocational' ? 'gold' : 'geekblue'}>{t(`school.kind.${k}`)}</Tag> },
              { title: t('common.createdAt'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD') },
              ...(canWrite
                ? [{
                    title: t('common.actions'),
                    key: 'a',
                    render: (_: unknown, s: School) => (
                      <Button size="small" type="link" icon={<EditOutlined />} data-testid={`school-edit-${s.code}`}
                        onClick={(e) => { e.stopPropagation(); openEdit(s); }}>
                        {t('common.edit')}
                      </Button>
                    ),
                  }]
                : []),
            ]}
          />
          {list.hasNextPage && (
            <Button data-testid="load-more" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
              {t('common.loadMore')}
            </Button>
          )}
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        <Card title={selected ? `${selected.name} · ${t('school.orgTree')}` : t('school.orgTree')} data-testid="school-org">
          {selected ? (
            <OrgTree schoolId={selected.id} kind={selected.kind} editable={!!canWrite} />
          ) : (
            <Empty description={t('school.pick')} />
          )}
        </Card>
      </Col>
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('school.new') : t('school.edit')}
        onCancel={close}
        onOk={() => form.submit()}
        confirmLoading={save.isPending}
        okButtonProps={{ 'data-testid': 'school-ok' }}
        forceRender
      >
        <ProblemAlert error={save.error} formFields={['name', 'code', 'kind']} />
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true }, { max: 100 }]}>
            <Input data-testid="school-name" maxLength={100} />
          </Form.Item>
          <Form.Item name="code" label={t('common.code')} extra={t('school.codeHint')}
            rules={[{ required: true }, { pattern: codePattern, message: t('school.codeInvalid') }]}>
            <Input data-testid="school-code" maxLength={32} />
          </Form.Item>
          {editing === 'new' && (
            <Form.Item name="kind" label={t('common.kind')} rules={[{ required: true }]}>
              <Select data-testid="school-kind"
                options={[{ value: 'k12', label: t('school.kind.k12') }, { value: 'vocational', label: t('school.kind.vocational') }]} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Row>
  );
}
