import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import i18n from '../i18n';
import App, { queryClient, shouldRetry } from '../App';
import { ApiError } from '../api/client';
import type { Me } from '../api/types';

const leader: Me = {
  user: { id: 'u1', username: 'leader.s1', display_name: '王校长', district_id: 'd1' },
  memberships: [
    { id: 'm1', scope_type: 'school', district_id: 'd1', district_name: '示范区', school_id: 's1', school_name: '示范区第一中学', role: 'school_leader', homeroom_id: null },
    { id: 'm2', scope_type: 'school', district_id: 'd1', district_name: '示范区', school_id: 's2', school_name: '示范区实验小学', role: 'counselor', homeroom_id: null },
  ],
};

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}
const unauthorized = () => json(401, { type: 'urn:xinqiao:problem:unauthenticated', title: 'Unauthorized', status: 401 });

beforeEach(async () => {
  localStorage.clear();
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => {
  queryClient.clear();
  vi.unstubAllGlobals();
  window.history.pushState({}, '', '/');
});

describe('App', () => {
  it('sends a visitor without a session to the login page', { timeout: 20000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async () => unauthorized()));
    window.history.pushState({}, '', '/students');
    render(<App />);
    expect(await screen.findByTestId('login-submit', {}, { timeout: 10000 })).toBeTruthy();
    expect(window.location.pathname).toBe('/login');
  });

  it('shows the menu of the selected role, switches scope and language', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/v1/me') return json(200, leader);
      return json(200, { items: [], next_cursor: null });
    }));
    render(<App />);
    const nav = await screen.findByTestId('nav', {}, { timeout: 10000 });
    const labels = () => [...nav.querySelectorAll('[data-testid^="nav-"]')].map((e) => e.textContent);
    expect(labels()).toEqual(['首页', '待办与通知', '计划任务与活动', '期末小结', '心理晴雨表', '心理委员网络', '班级与组织', '教职工与心理委员', '学生名册', '预警名单', '危机干预', '心理测查', '心理辅导室', '图书资料', '审计日志']);
    expect(screen.getByTestId('current-user').textContent).toContain('王校长');
    expect(await screen.findByTestId('welcome')).toBeTruthy();

    // The second membership (counselor): case files, warning list and the roster.
    const select = within(screen.getByTestId('scope-select')).getByRole('combobox');
    fireEvent.mouseDown(select);
    fireEvent.click(await screen.findByText('示范区实验小学 · 心理辅导教师'));
    await waitFor(() => expect(labels()).toEqual(['首页', '待办与通知', '心理辅导室', '受理队列', '心理辅导信箱', '测查预警', '个案档案', '教师家长咨询', '预警名单', '危机干预', '转介', '心理测查', '计划任务与活动', '期末小结', '心理晴雨表', '心理委员网络', '学生名册', '图书资料', '典型案例']));
    expect(localStorage.getItem('xq_scope')).toBe('m2');

    await act(async () => {
      fireEvent.click(within(screen.getByTestId('lang-switch')).getByText('English'));
    });
    await waitFor(() => expect(labels()).toEqual(['Home', 'Inbox', 'Counseling room', 'Intake queue', 'Mailbox', 'Screening alerts', 'Case files', 'Staff & guardian clients', 'Warning list', 'Crises', 'Referrals', 'Screening', 'Plan tasks & activities', 'Term summary', 'Barometer', 'Peer-liaison network', 'Student roster', 'Library', 'Teaching cases']));
    expect(localStorage.getItem('xq_lang')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
  });

  it('sends a role away from screens that are not in its menu', { timeout: 20000 }, async () => {
    const counselor: Me = { ...leader, memberships: [leader.memberships[1]] };
    vi.stubGlobal('fetch', vi.fn(async (url: string) =>
      url === '/api/v1/me' ? json(200, counselor) : json(200, { items: [], next_cursor: null })));
    window.history.pushState({}, '', '/users');
    render(<App />);
    await screen.findByTestId('welcome', {}, { timeout: 10000 });
    expect(window.location.pathname).toBe('/');
    expect(screen.getByTestId('scope-label').textContent).toContain('示范区实验小学');
  });

  it('goes to the login page when a later call answers 401', { timeout: 45000 }, async () => {
    let expired = false;
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (expired) return unauthorized();
      if (url === '/api/v1/me') return json(200, leader);
      return json(200, { items: [], next_cursor: null });
    }));
    render(<App />);
    const nav = await screen.findByTestId('nav', {}, { timeout: 10000 });
    expired = true;
    await act(async () => {
      fireEvent.click(within(nav).getByText('学生名册'));
    });
    // The roster screen loads lazily first: slow on a loaded machine.
    expect(await screen.findByTestId('login-submit', {}, { timeout: 25000 })).toBeTruthy();
    expect(window.location.pathname).toBe('/login');
  });

  it('logs out with the CSRF header and returns to the login page', { timeout: 30000 }, async () => {
    document.cookie = 'xq_csrf=tok-1';
    let loggedOut = false;
    const fetch = vi.fn(async (url: string) => {
      if (url === '/api/v1/auth/logout') {
        loggedOut = true;
        return new Response(null, { status: 204 });
      }
      if (url === '/api/v1/me') return loggedOut ? unauthorized() : json(200, leader);
      return json(200, { items: [], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    render(<App />);
    const logout = await screen.findByTestId('logout', {}, { timeout: 10000 });
    await act(async () => {
      fireEvent.click(logout);
    });
    expect(await screen.findByTestId('login-submit', {}, { timeout: 10000 })).toBeTruthy();
    const call = fetch.mock.calls.find(([u]) => u === '/api/v1/auth/logout') as unknown as [string, RequestInit];
    expect(call[1].method).toBe('POST');
    expect((call[1].headers as Record<string, string>)['X-CSRF-Token']).toBe('tok-1');
    document.cookie = 'xq_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });
});

describe('emergency access review', () => {
  it('gives district admins the review queue, where an open grant is closed with a verdict', { timeout: 30000 }, async () => {
    const admin: Me = {
      user: { id: 'a1', username: 'district.admin', display_name: '区管理员', district_id: 'd1' },
      memberships: [{ id: 'm9', scope_type: 'district', district_id: 'd1', district_name: '示范区', school_id: null, school_name: null, role: 'district_admin', homeroom_id: null }],
    };
    const review = {
      id: 'g1', school_id: 's1', case_file_id: 'c1', grantee_id: 'u1', grantee_name: '王校长', grantee_role: 'school_leader',
      granted_at: '2026-01-01T10:00:00Z', expires_at: '2026-01-01T11:00:00Z', ended_at: null, active: false, read_count: 2,
      last_read_at: null, verdict: null, reviewed_at: null, school_name: '示范区第一中学', reason: '学生失联', reviewed_by: null,
      reviewer_name: null, review_comment: null,
    };
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(200, admin);
      if (url === '/api/v1/districts/d1/emergency-reviews/g1' && init?.method === 'POST') return json(200, { ...review, verdict: 'justified' });
      if (url === '/api/v1/districts/d1/emergency-reviews') return json(200, { items: [review] });
      return json(200, { items: [], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    render(<App />);
    const nav = await screen.findByTestId('nav', {}, { timeout: 10000 });
    expect([...nav.querySelectorAll('[data-testid^="nav-"]')].map((e) => e.textContent)).toEqual(['首页', '待办与通知', '统计看板', '学校管理', '用户与授权', '区计划与达标', '期末小结审核', '逾期任务', '量表管理', '心理测查', '关注类别', '图书资料', '典型案例', '紧急查阅审查', '档案保存期限', '合作机构', '危机设置', '危机督导', '科研数据导出', '后台任务', '审计日志']);
    await act(async () => {
      fireEvent.click(within(nav).getByText('紧急查阅审查'));
    });
    expect((await screen.findByTestId('review-reason', {}, { timeout: 10000 })).textContent).toBe('学生失联');
    fireEvent.click(screen.getByTestId('review-close'));
    fireEvent.click(await screen.findByText('理由充分', {}, { timeout: 10000 }));
    fireEvent.change(screen.getByTestId('review-comment'), { target: { value: '情况属实' } });
    fireEvent.click(screen.getByTestId('review-submit'));
    await waitFor(() => expect(fetch.mock.calls.some(([u, i]) => u === '/api/v1/districts/d1/emergency-reviews/g1' && (i as RequestInit)?.method === 'POST')).toBe(true), { timeout: 10000 });
    const call = fetch.mock.calls.find(([u, i]) => u === '/api/v1/districts/d1/emergency-reviews/g1' && (i as RequestInit)?.method === 'POST')!;
    expect(JSON.parse((call[1] as RequestInit).body as string)).toEqual({ verdict: 'justified', comment: '情况属实' });
  });
});

describe('query retries', () => {
  it('never retries client errors and retries server errors twice', () => {
    expect(shouldRetry(0, new ApiError(404, { title: 'x' }))).toBe(false);
    expect(shouldRetry(0, new ApiError(401, { title: 'x' }))).toBe(false);
    expect(shouldRetry(0, new ApiError(502, { title: 'x' }))).toBe(true);
    expect(shouldRetry(2, new ApiError(502, { title: 'x' }))).toBe(false);
  });
});

describe('public mailbox page', () => {
  it('opens without a session and never asks who is logged in', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string) => (url.startsWith('/api/v1/public/mailbox/') ? json(200, { id: 's1', name: '示范区第一中学' }) : unauthorized()));
    vi.stubGlobal('fetch', fetch);
    window.history.pushState({}, '', '/mailbox/s1');
    render(<App />);
    expect(await screen.findByTestId('mailbox-send', {}, { timeout: 10000 })).toBeTruthy();
    expect(window.location.pathname).toBe('/mailbox/s1');
    expect(fetch.mock.calls.map((c) => c[0])).not.toContain('/api/v1/me');
  });
});
