import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import i18n from '../i18n';
import App, { queryClient } from '../App';
import { inboxBase } from '../nav';
import { looksLikeEmail, settingsBody } from '../components/AccountDialog';
import type { Me, Membership } from '../api/types';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

const district: Membership = { id: 'm1', scope_type: 'district', district_id: 'd1', district_name: '示范区', school_id: null, school_name: null, role: 'district_supervisor', homeroom_id: null };
const school: Membership = { id: 'm2', scope_type: 'school', district_id: 'd1', district_name: '示范区', school_id: 's1', school_name: '示范区第一中学', role: 'counselor', homeroom_id: null };
const supervisor: Me = { user: { id: 'u1', username: 'district.supervisor', display_name: '李督导', district_id: 'd1' }, memberships: [district] };
const counselor: Me = { user: { id: 'u2', username: 'counselor.s1', display_name: '张老师', district_id: 'd1' }, memberships: [school] };

const item = {
  id: 'i1', kind: 'screening_alert_escalated', is_task: true, case_file_id: null, subject_type: 'screening_alert', subject_id: 'a1',
  params: {}, due_at: null, created_at: '2026-01-01T10:00:00Z', read_at: null, done_at: null,
};

beforeEach(async () => {
  localStorage.clear();
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => {
  queryClient.clear();
  vi.unstubAllGlobals();
  window.history.pushState({}, '', '/');
});

const calls = (fetch: ReturnType<typeof vi.fn>, url: string, method = 'GET') =>
  fetch.mock.calls.filter(([u, i]) => u === url && ((i as RequestInit | undefined)?.method ?? 'GET') === method);

describe('notifications', () => {
  it('finds the inbox of the selected membership: district or school', () => {
    expect(inboxBase(district)).toBe('/api/v1/districts/d1/inbox');
    expect(inboxBase(school)).toBe('/api/v1/schools/s1/inbox');
    expect(inboxBase(undefined)).toBeNull();
  });

  it('checks addresses and turns the form into the settings body', () => {
    expect(looksLikeEmail('teacher@example.com')).toBe(true);
    for (const bad of ['teacher', 'a b@example.com', '张老师 <a@example.com>', 'a@b@c', `${'a'.repeat(250)}@example.com`]) {
      expect(looksLikeEmail(bad)).toBe(false);
    }
    expect(settingsBody({ email: '  a@example.com ', email_enabled: true })).toEqual({ email: 'a@example.com', email_enabled: true });
    expect(settingsBody({ email: '  ', email_enabled: false })).toEqual({ email: null, email_enabled: false });
  });

  it('shows a district supervisor the unread count and the district inbox behind the bell', { timeout: 30000 }, async () => {
    let done = false;
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(200, supervisor);
      if (url === '/api/v1/districts/d1/inbox/summary') return json(200, { unread: done ? 0 : 3, open_tasks: done ? 0 : 1 });
      if (url === '/api/v1/districts/d1/inbox/i1/done' && init?.method === 'POST') {
        done = true;
        return json(200, { ...item, done_at: '2026-01-01T11:00:00Z' });
      }
      if (url === '/api/v1/districts/d1/inbox') return json(200, { items: done ? [] : [item], unread: done ? 0 : 3, open_tasks: done ? 0 : 1 });
      return json(200, { items: [], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    render(<App />);
    const nav = await screen.findByTestId('nav', {}, { timeout: 10000 });
    expect([...nav.querySelectorAll('[data-testid^="nav-"]')].map((e) => e.textContent)).toEqual(['首页', '待办与通知', '统计看板', '区计划与达标', '期末小结审核', '逾期任务', '心理测查', '逾期预警', '危机督导', '合作机构', '危机设置', '典型案例']);
    const bell = await screen.findByTestId('notification-bell');
    await waitFor(() => expect(bell.getAttribute('data-unread')).toBe('3'), { timeout: 10000 });
    expect(bell.getAttribute('aria-label')).toBe('待办与通知：未读 3，待办 1');
    await act(async () => {
      fireEvent.click(bell);
    });
    expect(window.location.pathname).toBe('/inbox');
    const row = await screen.findByTestId('inbox-item', {}, { timeout: 10000 });
    expect(screen.getByText('待办与通知（区级）')).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(row).getByRole('button'));
    });
    await waitFor(() => expect(calls(fetch, '/api/v1/districts/d1/inbox/i1/done', 'POST')).toHaveLength(1), { timeout: 10000 });
    // The badge is refreshed after the change, never a school path for a district user.
    await waitFor(() => expect(bell.getAttribute('data-unread')).toBe('0'), { timeout: 10000 });
    expect(fetch.mock.calls.some(([u]) => String(u).startsWith('/api/v1/schools/'))).toBe(false);
  });

  it('lets a user turn e-mail reminders on in "my account", refusing a bad address before sending', { timeout: 30000 }, async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(200, counselor);
      if (url === '/api/v1/schools/s1/inbox/summary') return json(200, { unread: 0, open_tasks: 0 });
      if (url === '/api/v1/me/notification-settings' && init?.method === 'PUT') {
        const body = JSON.parse(init.body as string);
        if (body.email === 'taken@example.com') {
          return json(422, { type: 'urn:xinqiao:problem:invalid', title: 'Validation failed', status: 422, errors: [{ field: 'email', code: 'invalid', message: 'not a valid e-mail address' }] });
        }
        return json(200, { ...body, updated_at: '2026-01-01T00:00:00Z' });
      }
      if (url === '/api/v1/me/notification-settings') return json(200, { email: null, email_enabled: false, updated_at: null });
      return json(200, { items: [], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    render(<App />);
    const who = await screen.findByTestId('current-user', {}, { timeout: 10000 });
    await act(async () => {
      fireEvent.click(who);
    });
    const email = await screen.findByTestId('account-email', {}, { timeout: 10000 });
    fireEvent.change(email, { target: { value: 'not an address' } });
    fireEvent.click(screen.getByTestId('account-email-enabled'));
    await act(async () => {
      fireEvent.click(screen.getByTestId('account-save'));
    });
    expect(await screen.findByText('请输入有效的电子邮箱地址（如 name@example.com）', {}, { timeout: 10000 })).toBeTruthy();
    expect(calls(fetch, '/api/v1/me/notification-settings', 'PUT')).toHaveLength(0);

    // The server's own refusal lands on the field.
    fireEvent.change(email, { target: { value: 'taken@example.com' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('account-save'));
    });
    await waitFor(() => expect(calls(fetch, '/api/v1/me/notification-settings', 'PUT')).toHaveLength(1), { timeout: 10000 });
    expect(await screen.findByText(/not a valid e-mail address/, {}, { timeout: 10000 })).toBeTruthy();

    fireEvent.change(email, { target: { value: ' teacher@example.com ' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('account-save'));
    });
    await waitFor(() => expect(calls(fetch, '/api/v1/me/notification-settings', 'PUT')).toHaveLength(2), { timeout: 10000 });
    const put = calls(fetch, '/api/v1/me/notification-settings', 'PUT')[1];
    expect(JSON.parse((put[1] as RequestInit).body as string)).toEqual({ email: 'teacher@example.com', email_enabled: true });
  });

  it('links a crisis escalation to the crisis board for the supervisor', { timeout: 30000 }, async () => {
    const escalated = { ...item, kind: 'crisis_escalated', subject_type: 'crisis', subject_id: 'c1' };
    const fetch = vi.fn(async (url: string) => {
      if (url === '/api/v1/me') return json(200, supervisor);
      if (url === '/api/v1/districts/d1/inbox/summary') return json(200, { unread: 1, open_tasks: 1 });
      if (url === '/api/v1/districts/d1/inbox') return json(200, { items: [escalated], unread: 1, open_tasks: 1 });
      return json(200, { items: [], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    window.history.pushState({}, '', '/inbox');
    render(<App />);
    const link = await screen.findByTestId('inbox-open-crisis', {}, { timeout: 10000 });
    expect(link.textContent).toBe('查看危机');
    await act(async () => {
      fireEvent.click(link);
    });
    expect(window.location.pathname).toBe('/crisis-board');
  });
});
