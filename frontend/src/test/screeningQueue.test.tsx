import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import i18n from '../i18n';
import { SessionProvider } from '../session';
import ScreeningAlerts from '../pages/ScreeningAlerts';
import { InstrumentEditor } from '../pages/Instruments';
import { newDefinition, type Alert } from '../api/screening';
import type { Me } from '../api/types';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

const counselor: Me = {
  user: { id: 'u1', username: 'counselor.s1', display_name: '李老师', district_id: 'd1' },
  memberships: [{ id: 'm1', scope_type: 'school', district_id: 'd1', district_name: '示范区', school_id: 's1', school_name: '一中', role: 'counselor', homeroom_id: null }],
};

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id, student_id: 'st-' + id, student_name: '学生' + id, student_number: '2024' + id, homeroom_name: '七(1)班', assessment_id: 'as-' + id,
  instrument_code: 'phq9', reason: 'critical_item', band: 'mild', suggested_tier: 'high', created_at: '2026-12-01T08:00:00Z',
  due_at: '2026-12-01T12:00:00Z', overdue: false, escalation: 'none', ...over,
});

function Where() {
  const l = useLocation();
  return <div data-testid="where">{l.pathname + l.search}</div>;
}

function wrap(children: React.ReactNode, path = '/screening-alerts') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <AntApp>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[path]}>
          <SessionProvider>
            <Routes>
              <Route path="/screening-alerts" element={children} />
              <Route path="/case-files" element={<Where />} />
            </Routes>
          </SessionProvider>
        </MemoryRouter>
      </QueryClientProvider>
    </AntApp>,
  );
}

beforeEach(async () => {
  localStorage.clear();
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('screening alert queue', () => {
  it('puts overdue alerts first and marks them', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/v1/me') return json(200, counselor);
      return json(200, { items: [alert('1', { due_at: '2026-12-01T10:00:00Z' }), alert('2', { overdue: true, due_at: '2026-12-01T11:00:00Z', escalation: 'leader' })] });
    }));
    wrap(<ScreeningAlerts />);
    await screen.findAllByTestId('alert-row', {}, { timeout: 10000 });
    const rows = screen.getAllByTestId('alert-row');
    expect(rows[0].textContent).toContain('学生2');
    expect(rows[0].getAttribute('data-overdue')).toBe('true');
    expect(within(rows[0]).getByTestId('alert-overdue').textContent).toBe('已逾期');
    expect(rows[1].getAttribute('data-overdue')).toBeNull();
  });

  it('"open case file" acknowledges with open_case_file and opens the file', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(200, counselor);
      if (init?.method === 'POST') return json(200, { ...alert('1'), acknowledged_at: '2026-12-01T09:00:00Z', outcome: 'case_opened', case_file_id: 'cf-9' });
      return json(200, { items: [alert('1')] });
    });
    vi.stubGlobal('fetch', fetch);
    wrap(<ScreeningAlerts />);
    fireEvent.click(await screen.findByTestId('alert-open-case', {}, { timeout: 10000 }));
    await waitFor(() => expect(screen.getByTestId('where').textContent).toBe('/case-files?open=cf-9'));
    const post = fetch.mock.calls.find((c) => c[1]?.method === 'POST')!;
    expect(post[0]).toBe('/api/v1/schools/s1/screening-alerts/1/acknowledge');
    expect(JSON.parse(String(post[1]!.body))).toEqual({ outcome: 'case_opened', open_case_file: true });
  });

  it('acknowledges with the chosen outcome', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(200, counselor);
      if (init?.method === 'POST') return json(200, { ...alert('1'), acknowledged_at: '2026-12-01T09:00:00Z', outcome: 'no_action_needed' });
      return json(200, { items: [alert('1')] });
    });
    vi.stubGlobal('fetch', fetch);
    wrap(<ScreeningAlerts />);
    fireEvent.click(await screen.findByTestId('alert-ack', {}, { timeout: 10000 }));
    fireEvent.click(await screen.findByText('无需处理'));
    fireEvent.click(screen.getByTestId('ack-submit'));
    await waitFor(() => expect(fetch.mock.calls.some((c) => c[1]?.method === 'POST')).toBe(true));
    const post = fetch.mock.calls.find((c) => c[1]?.method === 'POST')!;
    expect(JSON.parse(String(post[1]!.body))).toEqual({ outcome: 'no_action_needed', open_case_file: false });
  });
});

describe('instrument editor', () => {
  it('shows the server validation errors per field and marks the items in the live preview', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string) => {
      if (url.endsWith('/validate')) {
        return json(422, { title: 'Unprocessable', status: 422, errors: [
          { field: 'definition.items[1].text.zh', code: 'required', message: 'the Chinese item text is required' },
          { field: 'definition.bands[1].max', code: 'invalid_value', message: 'the last band must end at the highest total, 4' },
        ] });
      }
      return json(200, {});
    });
    vi.stubGlobal('fetch', fetch);
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<AntApp><QueryClientProvider client={qc}><InstrumentEditor district="d1" initial={newDefinition()} onSaved={() => {}} /></QueryClientProvider></AntApp>);
    // The preview shows the questionnaire as a student sees it.
    const preview = screen.getByTestId('instrument-preview');
    expect(within(preview).getAllByTestId('q-item')).toHaveLength(2);
    const errs = await screen.findAllByTestId('definition-error', {}, { timeout: 10000 });
    expect(errs.map((e) => e.textContent)).toEqual([
      'items[1].text.zh the Chinese item text is required',
      'bands[1].max the last band must end at the highest total, 4',
    ]);
    expect(within(preview).getAllByTestId('q-item')[1].getAttribute('data-missing')).toBe('true');
    expect(within(preview).getAllByTestId('q-item')[0].getAttribute('data-missing')).toBeNull();
    // Malformed JSON is caught on the page, before any request.
    fireEvent.change(screen.getByTestId('instrument-json'), { target: { value: '{"code":' } });
    expect(screen.getByTestId('instrument-validation').textContent).toContain('JSON 格式有误');
    expect((screen.getByTestId('instrument-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says the definition is valid with its total range', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { valid: true, total_min: 0, total_max: 4 })));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<AntApp><QueryClientProvider client={qc}><InstrumentEditor district="d1" initial={newDefinition()} onSaved={() => {}} /></QueryClientProvider></AntApp>);
    expect((await screen.findByTestId('instrument-valid', {}, { timeout: 10000 })).textContent).toContain('0–4');
  });
});
