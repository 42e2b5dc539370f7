import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import i18n from '../i18n';
import Documents, { formatSize } from '../pages/casefile/Documents';

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

function wrap(ui: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <AntApp>{ui}</AntApp>
    </QueryClientProvider>,
  );
}

const base = '/api/v1/schools/s1';
const doc = {
  id: 'd1', case_file_id: 'c1', session_id: null, kind: 'consent_form', title: 'Guardian consent', filename: 'consent.pdf',
  content_type: 'application/pdf', size_bytes: 2048, sha256: 'ab', uploaded_by: 'u1', uploaded_by_name: 'Counselor', uploaded_at: '2025-03-01T08:00:00Z',
};

function api(status: string) {
  return vi.fn(async (url: string) => {
    if (url.endsWith('/documents')) return json({ items: [doc] });
    if (url.endsWith('/timeline')) return json({ items: [] });
    return json({ status });
  });
}

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

// antd renders slowly in jsdom on a loaded machine: the rendering tests get 30 s.
describe('Documents tab', () => {
  it('lists the documents with a download link through the API and an upload form', async () => {
    vi.stubGlobal('fetch', api('open'));
    wrap(<Documents base={base} id="c1" />);
    const row = (await screen.findByText('Guardian consent')).closest('tr')!;
    expect(within(row).getByTestId('doc-download').getAttribute('href')).toBe(`${base}/documents/d1/content`);
    expect(within(row).getByText('知情同意书')).toBeTruthy();
    expect(within(row).getByText('2.0 KB')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('doc-submit')).toBeTruthy());
  }, 30_000);

  it('offers no upload on an archived case file', async () => {
    vi.stubGlobal('fetch', api('archived'));
    wrap(<Documents base={base} id="c1" />);
    await screen.findByText('档案已归档，只能查看，不能上传。');
    expect(screen.queryByTestId('doc-submit')).toBeNull();
  }, 30_000);

  it('formats sizes', () => {
    expect([formatSize(12), formatSize(1536), formatSize(3 * 1024 * 1024)]).toEqual(['12 B', '1.5 KB', '3.0 MB']);
  });
});
