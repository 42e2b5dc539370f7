import { Table } from 'antd';
import { useTranslation } from 'react-i18next';
import type { FieldError } from '../api/types';

type Row = FieldError & { key: number };

// ImportErrors lists the row errors of a refused roster import: 行号, 列, 错误 (translated by code,
// followed by the server's own message).
export default function ImportErrors({ errors }: { errors: FieldError[] }) {
  const { t, i18n } = useTranslation();
  const describe = (e: FieldError) => {
    const key = `importError.code.${e.code}`;
    if (!i18n.exists(key)) return e.message;
    return e.message ? t('fieldError.withMessage', { label: t(key), message: e.message }) : t(key);
  };
  const rows: Row[] = errors.map((e, i) => ({ ...e, key: i }));
  return (
    <Table<Row>
      data-testid="import-errors"
      size="small"
      rowKey="key"
      pagination={{ pageSize: 20, hideOnSinglePage: true, showSizeChanger: false }}
      dataSource={rows}
      columns={[
        { title: t('importError.row'), dataIndex: 'row', width: 80, render: (r?: number) => r ?? '—' },
        { title: t('importError.column'), dataIndex: 'column', width: 140, render: (c?: string) => c || '—' },
        { title: t('importError.error'), key: 'error', render: (_, e) => <span data-code={e.code}>{describe(e)}</span> },
      ]}
    />
  );
}
