import { useMemo, useState } from 'react';
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Tree, App } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { OrgUnit, Page } from '../api/types';
import ProblemAlert, { fieldErrors } from './ProblemAlert';

// OrgTree shows and edits a school's grades (or departments) and homerooms.
export default function OrgTree({ schoolId, kind, editable }: { schoolId: string; kind: 'k12' | 'vocational'; editable: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const path = `/api/v1/schools/${schoolId}/org-units`;
  const units = useQuery({ queryKey: ['org-units', schoolId], queryFn: () => api<Page<OrgUnit>>('GET', path) });
  const [adding, setAdding] = useState<null | 'top' | 'homeroom'>(null);
  const [form] = Form.useForm();
  const top = kind === 'vocational' ? 'department' : 'grade';
  const create = useMutation({
    mutationFn: (v: { name: string; parent_id?: string }) =>
      api<OrgUnit>('POST', path, adding === 'top' ? { kind: top, name: v.name } : { kind: 'homeroom', name: v.name, parent_id: v.parent_id }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['org-units', schoolId] });
      setAdding(null);
      form.resetFields();
      message.success(t('common.saved'));
    },
    onError: (e) => form.setFields(fieldErrors(e)),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api('DELETE', `${path}/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['org-units', schoolId] }),
  });
  const items = units.data?.items ?? [];
  const tree = useMemo(
    () =>
      items
        .filter((u) => !u.parent_id)
        .map((g) => ({
          key: g.id,
          title: g.name,
          children: items
            .filter((h) => h.parent_id === g.id)
            .map((h) => ({
              key: h.id,
              title: editable ? (
                <Space>
                  {h.name}
                  <Popconfirm title={t('common.confirmDelete')} onConfirm={() => remove.mutate(h.id)}>
                    <a>{t('common.delete')}</a>
                  </Popconfirm>
                </Space>
              ) : (
                h.name
              ),
            })),
        })),
    [items, editable, remove, t],
  );
  return (
    <div data-testid="org-tree">
      <ProblemAlert error={units.error || remove.error} />
      {editable && (
        <Space style={{ marginBottom: 12 }}>
          <Button icon={<PlusOutlined />} onClick={() => setAdding('top')}>{t('org.addTop')}</Button>
          <Button icon={<PlusOutlined />} onClick={() => setAdding('homeroom')} disabled={items.length === 0}>{t('org.addHomeroom')}</Button>
        </Space>
      )}
      {tree.length > 0 && <Tree defaultExpandAll showLine treeData={tree} key={items.length} />}
      <Modal open={adding !== null} title={adding === 'top' ? t('org.addTop') : t('org.addHomeroom')} onCancel={() => setAdding(null)}
        onOk={() => form.submit()} confirmLoading={create.isPending} destroyOnHidden>
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          {adding === 'homeroom' && (
            <Form.Item name="parent_id" label={t('org.parent')} rules={[{ required: true }]}>
              <Select options={items.filter((u) => !u.parent_id).map((u) => ({ value: u.id, label: u.name }))} />
            </Form.Item>
          )}
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true }]}>
            <Input maxLength={64} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
