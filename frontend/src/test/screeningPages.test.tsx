import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import type { ReactNode } from 'react';
import i18n from '../i18n';
import App, { queryClient } from '../App';
import StudentScreening from '../pages/StudentScreening';
import { CodeSheet, slipsHtml } from '../pages/SchoolCampaigns';
import CountText from '../components/CountText';
import type { PublicSheet } from '../api/screening';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}
const problem = (status: number, extra: object = {}) => json(status, { type: 'about:blank', title: 'x', status, ...extra });

const options = [0, 1, 2, 3].map((value) => ({ value, label: { zh: ['完全不会', '好几天', '一半以上的天数', '几乎每天'][value], en: String(value) } }));
const sheet: PublicSheet = {
  title: '2026 秋季心理测查',
  message: '请认真作答',
  help_contacts: '心理辅导室 0571-1234',
  instruments: [{
    id: 'ins-1', code: 'phq9', name: { zh: 'PHQ-9', en: 'PHQ-9' }, stem: { zh: '过去两周', en: 'Last two weeks' },
    items: ['1', '2', '9'].map((code) => ({ code, text: { zh: `题目${code}`, en: `Item ${code}` }, options })),
  }],
};

function renderStudent(children: ReactNode = <StudentScreening />, path = '/s/ABCD-EFGH-JK') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <AntApp>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[path]}>
          <Routes><Route path="/s/:code" element={children} /></Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </AntApp>,
  );
}

function answer(item: string, label: string) {
  const box = document.querySelector(`[data-item="phq9.${item}"]`) as HTMLElement;
  fireEvent.click(within(box).getByText(label));
}

beforeEach(async () => {
  localStorage.clear();
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => {
  vi.unstubAllGlobals();
  queryClient.clear();
  window.history.pushState({}, '', '/');
});

describe('student questionnaire page', () => {
  it('marks unanswered items instead of sending, then shows only thanks and help contacts', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (_url: string, init?: RequestInit) => {
      if (init?.method === 'POST') return json(201, { thanks: true, help_contacts: '心理辅导室 0571-1234' });
      return json(200, sheet);
    });
    vi.stubGlobal('fetch', fetch);
    renderStudent();
    expect((await screen.findByTestId('screening-title', {}, { timeout: 10000 })).textContent).toBe('2026 秋季心理测查');
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/s/ABCDEFGHJK');
    answer('1', '好几天');
    fireEvent.click(screen.getByTestId('screening-submit'));
    expect(await screen.findByTestId('missing-alert')).toBeTruthy();
    const missing = [...document.querySelectorAll('[data-missing="true"]')].map((e) => e.getAttribute('data-item'));
    expect(missing).toEqual(['phq9.2', 'phq9.9']);
    expect(fetch.mock.calls.filter((c) => c[1]?.method === 'POST')).toHaveLength(0);

    answer('2', '完全不会');
    answer('9', '一半以上的天数');
    fireEvent.click(screen.getByTestId('screening-submit'));
    await screen.findByTestId('screening-thanks');
    const post = fetch.mock.calls.find((c) => c[1]?.method === 'POST')!;
    expect(JSON.parse(String(post[1]!.body))).toEqual({ answers: { 'ins-1': { '1': 1, '2': 0, '9': 2 } } });
    expect(screen.getByTestId('help-contacts').textContent).toContain('0571-1234');
    const text = document.body.textContent ?? '';
    for (const word of ['总分', '分数', '等级', '重度', '中度', 'score', 'band']) expect(text).not.toContain(word);
  });

  it('highlights the items a 422 names', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init?: RequestInit) =>
      init?.method === 'POST'
        ? problem(422, { errors: [{ field: 'answers.ins-1.9', code: 'required', message: 'item 9 is not answered' }] })
        : json(200, sheet)));
    renderStudent();
    await screen.findByTestId('screening-title', {}, { timeout: 10000 });
    answer('1', '好几天');
    answer('2', '好几天');
    answer('9', '好几天');
    fireEvent.click(screen.getByTestId('screening-submit'));
    await waitFor(() => expect(document.querySelector('[data-missing="true"]')?.getAttribute('data-item')).toBe('phq9.9'));
  });

  it.each([
    [404, 'unknown', '作答码无效'],
    [409, 'used', '这个作答码已经使用过了'],
    [410, 'expired', '作答码已失效或不在作答时间内'],
    [429, 'limited', '尝试次数过多，请稍后再试'],
  ] as const)('says why a code answering %d cannot be used', { timeout: 30000 }, async (status, state, title) => {
    vi.stubGlobal('fetch', vi.fn(async () => problem(status)));
    renderStudent();
    const refused = await screen.findByTestId('code-refused', {}, { timeout: 10000 });
    expect(refused.getAttribute('data-state')).toBe(state);
    expect(screen.getByTestId('code-refused-title').textContent).toBe(title);
    expect(screen.queryByTestId('questionnaire')).toBeNull();
  });

  it('says "already used" when the code is used while the student answers', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init?: RequestInit) => (init?.method === 'POST' ? problem(409) : json(200, sheet))));
    renderStudent();
    await screen.findByTestId('screening-title', {}, { timeout: 10000 });
    for (const i of ['1', '2', '9']) answer(i, '完全不会');
    fireEvent.click(screen.getByTestId('screening-submit'));
    expect((await screen.findByTestId('code-refused')).getAttribute('data-state')).toBe('used');
  });

  it('is reached without a login: the app never sends /s/ to the login page', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string) => (url.startsWith('/api/v1/s/') ? json(200, sheet) : problem(401)));
    vi.stubGlobal('fetch', fetch);
    window.history.pushState({}, '', '/s/ABCDEFGHJK');
    render(<App />);
    await screen.findByTestId('screening-title', {}, { timeout: 10000 });
    expect(window.location.pathname).toBe('/s/ABCDEFGHJK');
    expect(fetch.mock.calls.map((c) => c[0])).not.toContain('/api/v1/me');
    expect(screen.queryByTestId('nav')).toBeNull();
  });
});

describe('code sheet and counts', () => {
  it('prints one slip per student with name, grouped code and the absolute address', { timeout: 20000 }, () => {
    render(
      <CodeSheet title="秋季测查" homeroomName="七(1)班" expiresAt="2026-12-15T15:59:00Z"
        slips={[{ student_id: 's1', name: '张三', student_number: '20241001', homeroom_name: '七(1)班', code: 'ABCDEFGHJK', url: '/s/ABCDEFGHJK' }]} />,
    );
    const slip = screen.getByTestId('code-slip');
    expect(slip.textContent).toContain('张三');
    expect(within(slip).getByTestId('slip-code').textContent).toBe('ABCD-EFGH-JK');
    expect(within(slip).getByTestId('slip-url').textContent).toBe(`${window.location.origin}/s/ABCDEFGHJK`);
  });

  it('prints the slips on a page of their own, escaped', () => {
    const html = slipsHtml({ title: '测查 <秋>', homeroomName: '七(1)班', hint: '只能使用一次', origin: 'https://xq.example.cn', lang: 'zh-CN',
      slips: [{ student_id: 's1', name: '张三', student_number: '20241001', homeroom_name: '七(1)班', code: 'ABCDEFGHJK', url: '/s/ABCDEFGHJK' }] });
    expect(html).toContain('ABCD-EFGH-JK');
    expect(html).toContain('https://xq.example.cn/s/ABCDEFGHJK');
    expect(html).toContain('测查 &lt;秋&gt;');
    expect(html).toContain('page-break-inside: avoid');
    expect(html.match(/class="slip"/g)).toHaveLength(1);
  });

  it('shows a suppressed count as given, with a visible marker', () => {
    render(<><CountText value="<5" /><CountText value="12" /></>);
    expect(screen.getByTestId('count-suppressed').textContent).toContain('<5');
    expect(screen.getByTestId('count').textContent).toBe('12');
  });
});
