import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import type { ReactNode } from 'react';
import i18n from '../i18n';
import { EmergencyAccessDialog, EmergencyDrawer, remaining, type EmergencyGrant } from '../pages/EmergencyAccess';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

function wrap(children: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<AntApp><QueryClientProvider client={qc}>{children}</QueryClientProvider></AntApp>);
}

const grant = (expires: Date): EmergencyGrant => ({
  id: 'g1', school_id: 's1', case_file_id: 'c1', grantee_id: 'u1', grantee_name: '王校长', grantee_role: 'school_leader',
  granted_at: new Date(expires.getTime() - 3600_000).toISOString(), expires_at: expires.toISOString(), ended_at: null,
  active: true, read_count: 0, last_read_at: null, verdict: null, reviewed_at: null,
});

const reading = (g: EmergencyGrant) => ({
  grant: g,
  case_file: { id: 'c1', student_name: '张三', student_number: 'S001', homeroom_name: '一班', status: 'open', risk_tier: 'high' },
  sessions: [{ id: 'x', occurred_at: '2026-01-02T03:04:05Z', channel: 'walk_in', categories: [], duration_minutes: 30,
    summary: '睡眠问题', next_steps: '', note: '', addenda: [] }],
  risk_tiers: [],
});

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('emergency access', () => {
  it('counts down in minutes and seconds, never below zero', () => {
    const now = Date.parse('2026-01-01T10:00:00Z');
    expect(remaining('2026-01-01T11:00:00Z', now)).toBe('60:00');
    expect(remaining('2026-01-01T10:01:05Z', now)).toBe('1:05');
    expect(remaining('2026-01-01T09:59:00Z', now)).toBe('0:00');
  });

  it('renders the counselor notice with the role and the expiry, in both languages', async () => {
    const params = { role: 'district_supervisor', until: '2026-01-01 18:00', expires_at: '2026-01-01T10:00:00Z' };
    expect(i18n.t('inbox.kind.emergency_access_opened', params)).toBe('督导对您负责的个案档案启用了紧急查阅，有效期至 2026-01-01 18:00');
    await i18n.changeLanguage('en');
    expect(i18n.t('inbox.kind.emergency_access_opened', params)).toBe('Supervisor opened a case file in your care by emergency access (until 2026-01-01 18:00)');
  });

  it('shows the timeline with a countdown while the grant lasts', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 30 * 60_000));
    vi.stubGlobal('fetch', vi.fn(async () => json(200, reading(g))));
    wrap(<EmergencyDrawer base="/api/v1/schools/s1" grant={g} onClose={() => {}} />);
    expect((await screen.findByTestId('emergency-session', {}, { timeout: 10000 })).textContent).toContain('睡眠问题');
    expect(screen.getByTestId('emergency-countdown').textContent).toMatch(/剩余 (29|30):\d\d/);
    expect(screen.queryByTestId('emergency-expired')).toBeNull();
  });

  it('says the access has expired when the server refuses, and shows nothing of the file', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 30 * 60_000));
    vi.stubGlobal('fetch', vi.fn(async () => json(403, { type: 'urn:xinqiao:problem:forbidden', title: 'Forbidden', status: 403, detail: 'the emergency access has expired' })));
    wrap(<EmergencyDrawer base="/api/v1/schools/s1" grant={g} onClose={() => {}} />);
    expect(await screen.findByTestId('emergency-expired', {}, { timeout: 10000 })).toBeTruthy();
    expect(screen.queryByTestId('emergency-reading')).toBeNull();
  });

  it('stops showing the file once the countdown reaches zero', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 1500));
    vi.stubGlobal('fetch', vi.fn(async () => json(200, reading(g))));
    wrap(<EmergencyDrawer base="/api/v1/schools/s1" grant={g} onClose={() => {}} />);
    await screen.findByTestId('emergency-reading', {}, { timeout: 10000 });
    await act(async () => {
      await new Promise((r) => setTimeout(r, 2200));
    });
    await waitFor(() => expect(screen.getByTestId('emergency-expired')).toBeTruthy());
    expect(screen.queryByTestId('emergency-reading')).toBeNull();
  });

  it('asks a user with MFA for the code of the authenticator app and sends it', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 30 * 60_000));
    const fetch = vi.fn(async (url: string) => (url === '/api/v1/me/mfa' ? json(200, { required: true, enrolled: true, recovery_codes_left: 10 }) : json(201, g)));
    vi.stubGlobal('fetch', fetch);
    const granted = vi.fn();
    wrap(<EmergencyAccessDialog base="/api/v1/schools/s1" caseFileId="c1" student="张三" onClose={() => {}} onGranted={granted} />);
    const code = await screen.findByTestId('emergency-code', {}, { timeout: 10000 });
    fireEvent.change(screen.getByTestId('emergency-reason'), { target: { value: '学生失联' } });
    fireEvent.change(screen.getByTestId('emergency-password'), { target: { value: 'pw' } });
    fireEvent.change(code, { target: { value: ' 123456 ' } });
    fireEvent.click(screen.getByTestId('emergency-submit'));
    await waitFor(() => expect(granted).toHaveBeenCalled(), { timeout: 10000 });
    const post = fetch.mock.calls.find((c) => String(c[0]).endsWith('/emergency-access')) as unknown as [string, RequestInit];
    expect(JSON.parse(String(post[1].body))).toEqual({ reason: '学生失联', password: 'pw', code: '123456' });
  });

  it('asks no code of a user without MFA', { timeout: 20000 }, async () => {
    const fetch = vi.fn(async () => json(200, { required: false, enrolled: false, recovery_codes_left: 0 }));
    vi.stubGlobal('fetch', fetch);
    wrap(<EmergencyAccessDialog base="/api/v1/schools/s1" caseFileId="c1" student="张三" onClose={() => {}} onGranted={() => {}} />);
    await screen.findByTestId('emergency-password', {}, { timeout: 10000 });
    await waitFor(() => expect(fetch).toHaveBeenCalled());
    expect(screen.queryByTestId('emergency-code')).toBeNull();
  });
});


void fireEvent;
