import { useMemo, useState, type ReactNode } from 'react';
import { App, Button, Empty, Form, Input, Modal, Popconfirm, Radio, Select, Space, Spin, Tag, Tree, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { topLevelKind, useOrgUnits } from '../api/hooks';
import type { OrgUnit } from '../api/types';
import ProblemAlert, { useFieldErrors } from './ProblemAlert';

type Dialog =
  | { mode: 'top' }
  | { mode: 'homeroom'; parentId?: string }
  | { mode: 'rename'; unit: OrgUnit };

interface TreeNode {
  key: string;
  title: ReactNode;
  children?: TreeNode[];
}

// OrgTree shows, and for school leaders and district admins edits, a school's grades (or a
// vocational school's departments) and their homerooms.
export default function OrgTree({ schoolId, kind, editable }: { schoolId: string; kind?: 'k12' | 'vocational'; editable: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const toFields = useFieldErrors();
  const path = `/api/v1/schools/${schoolId}/org-units`;
  const units = useOrgUnits(schoolId);
  const items = useMemo(() => units.data ?? [], [units.data]);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [form] = Form.useForm();
  const knownTop = topLevelKind(items) ?? (kind === 'vocational' ? 'department' : kind === 'k12' ? 'grade' : null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['org-units', schoolId] });
  const close = () => {
    setDialog(null);
    form.resetFields();
  };
  const save = useMutation({
    mutationFn: (v: { name: string; parent_id?: string; kind?: 'grade' | 'department' }) => {
      if (dialog?.mode === 'rename') return api<OrgUnit>('PATCH', `${path}/${dialog.unit.id}`, { name: v.name.trim() });
      if (dialog?.mode === 'homeroom') return api<OrgUnit>('POST', path, { kind: 'homeroom', name: v.name.trim(), parent_id: v.parent_id });
      return api<OrgUnit>('POST', path, { kind: v.kind ?? knownTop ?? 'grade', name: v.name.trim() });
    },
    onSuccess: () => {
      void refresh();
      close();
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(toFields(e)),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api('DELETE', `${path}/${id}`),
    onSuccess: () => {
      void refresh();
      message.success(t('common.deleted'));
    },
  });
  const tops = items.filter((u) => !u.parent_id);
  const actions = (u: OrgUnit) =>
    editable && (
      <Space size={4} onClick={(e) => e.stopPropagation()}>
        {u.kind !== 'homeroom' && (
          <Button size="small" type="link" icon={<PlusOutlined />} title={t('org.addHomeroom')} aria-label={t('org.addHomeroom')}
            onClick={() => { form.setFieldsValue({ parent_id: u.id }); setDialog({ mode: 'homeroom', parentId: u.id }); }} />
        )}
        <Button size="small" type="link" icon={<EditOutlined />} title={t('org.rename')} aria-label={t('org.rename')}
          onClick={() => { form.setFieldsValue({ name: u.name }); setDialog({ mode: 'rename', unit: u }); }} />
        <Popconfirm title={t('org.confirmDelete', { name: u.name })} description={t('org.deleteHint')} onConfirm={() => remove.mutate(u.id)}>
          <Button size="small" type="link" danger icon={<DeleteOutlined />} title={t('common.delete')} aria-label={t('common.delete')} />
        </Popconfirm>
      </Space>
    );
  const label = (u: OrgUnit) => (
    <Space size={6} data-testid={`org-unit-${u.id}`}>
      <span>{u.name}</span>
      {u.kind !== 'homeroom' && <Tag color={u.kind === 'department' ? 'gold' : 'geekblue'}>{t(`org.${u.kind}`)}</Tag>}
      {actions(u)}
    </Space>
  );
  const tree: TreeNode[] = tops.map((g) => ({
    key: g.id,
    title: label(g),
    children: items.filter((h) => h.parent_id === g.id).map((h) => ({ key: h.id, title: label(h) })),
  }));
  const title =
    dialog?.mode === 'rename' ? t('org.rename') : dialog?.mode === 'homeroom' ? t('org.addHomeroom') : t('org.addTop');
  return (
    <div data-testid="org-tree">
      <ProblemAlert error={units.error || remove.error} />
      {editable && (
        <Space style={{ marginBottom: 12 }}>
          <Button data-testid="org-add-top" icon={<PlusOutlined />} onClick={() => { form.setFieldsValue({ kind: knownTop ?? 'grade' }); setDialog({ mode: 'top' }); }}>
            {t('org.addTop')}
          </Button>
          <Button data-testid="org-add-homeroom" icon={<PlusOutlined />} onClick={() => setDialog({ mode: 'homeroom' })} disabled={tops.length === 0}>
            {t('org.addHomeroom')}
          </Button>
        </Space>
      )}
      {units.isLoading ? (
        <Spin />
      ) : tree.length > 0 ? (
        <>
          <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
            {t('org.summary', { top: tops.length, homerooms: items.length - tops.length })}
          </Typography.Text>
          <Tree defaultExpandAll showLine blockNode selectable={false} treeData={tree} key={items.length} />
        </>
      ) : (
        <Empty description={t('org.empty')} />
      )}
      <Modal open={dialog !== null} title={title} onCancel={close} onOk={() => form.submit()} confirmLoading={save.isPending}
        okButtonProps={{ 'data-testid': 'org-ok' }} forceRender>
        <ProblemAlert error={save.error} formFields={['name', 'parent_id', 'kind']} />
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          {dialog?.mode === 'top' && (
            <Form.Item name="kind" label={t('common.kind')} rules={[{ required: true }]}>
              <Radio.Group options={[{ value: 'grade', label: t('org.grade') }, { value: 'department', label: t('org.department') }]} />
            </Form.Item>
          )}
          {dialog?.mode === 'homeroom' && (
            <Form.Item name="parent_id" label={t('org.parent')} rules={[{ required: true }]}>
              <Select options={tops.map((u) => ({ value: u.id, label: u.name }))} />
            </Form.Item>
          )}
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true }, { max: 64 }]}>
            <Input data-testid="org-name" maxLength={64} autoFocus />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
