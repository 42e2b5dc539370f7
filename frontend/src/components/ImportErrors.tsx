import { Table } from 'antd';
import { useTranslation } from 'react-i18next';
import type { FieldError } from '../api/types';

// ImportErrors lists the row errors of a refused roster import: row, column, error.
export default function ImportErrors({ errors }: { errors: FieldError[] }) {
  const { t, i18n } = useTranslation();
  const describe = (e: FieldError) => {
    const key = `importError.code.${e.code}`;
    return i18n.exists(key) ? t(key) : e.message;
  };
  return (
    <Table
      data-testid="import-errors"
      size="small"
      rowKey={(_, i) => String(i)}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      dataSource={errors}
      columns={[
        { title: t('importError.row'), dataIndex: 'row', width: 80 },
        { title: t('importError.column'), dataIndex: 'column', width: 140 },
        { title: t('importError.error'), key: 'error', render: (_, e) => `${describe(e)}（${e.message}）` },
      ]}
    />
  );
}
