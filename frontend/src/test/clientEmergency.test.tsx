import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import type { ReactNode } from 'react';
import i18n from '../i18n';
import { ClientEmergencyDrawer, validFileNumber } from '../pages/ClientFileEmergency';
import type { EmergencyGrant } from '../pages/EmergencyAccess';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

function wrap(children: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<AntApp><QueryClientProvider client={qc}>{children}</QueryClientProvider></AntApp>);
}

const grant = (expires: Date): EmergencyGrant => ({
  id: 'g1', school_id: 's1', case_file_id: null, client_file_id: 'f1', grantee_id: 'u1', grantee_name: '王校长', grantee_role: 'school_leader',
  granted_at: new Date(expires.getTime() - 3600_000).toISOString(), expires_at: expires.toISOString(), ended_at: null,
  active: true, read_count: 0, last_read_at: null, verdict: null, reviewed_at: null,
});

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('emergency access to staff and guardian clients\' files', () => {
  it('accepts only a well-formed file number', () => {
    expect(validFileNumber(' 0192f3a4-5b6c-7d8e-9f01-23456789abcd ')).toBe(true);
    expect(validFileNumber('0192F3A4-5B6C-7D8E-9F01-23456789ABCD')).toBe(true);
    expect(validFileNumber('王老师')).toBe(false);
    expect(validFileNumber('')).toBe(false);
  });

  it('tells the counselors in both languages, without saying whose file', async () => {
    const params = { role: 'school_leader', until: '2026-01-01 18:00' };
    expect(i18n.t('inbox.kind.client_file_emergency_opened', params)).toBe('学校领导对教师或家长的咨询档案启用了紧急查阅，有效期至 2026-01-01 18:00');
    await i18n.changeLanguage('en');
    expect(i18n.t('inbox.kind.client_file_emergency_opened', params)).toContain("opened a staff or guardian client's file by emergency access (until 2026-01-01 18:00)");
  });

  it('shows the sessions\' summaries with a countdown while the grant lasts', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 30 * 60_000));
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { grant: g, client_file: { id: 'f1', client_kind: 'teacher', name: '王老师', contact: '', status: 'open',
      sessions: [{ id: 'x', occurred_at: '2026-01-02T03:04:05Z', channel: 'walk_in', duration_minutes: 40, summary: '工作压力大' }] } })));
    wrap(<ClientEmergencyDrawer base="/api/v1/schools/s1" grant={g} onClose={() => {}} />);
    expect((await screen.findByTestId('client-emergency-session', {}, { timeout: 10000 })).textContent).toContain('工作压力大');
    expect(screen.getByTestId('client-emergency-countdown').textContent).toMatch(/剩余 (29|30):\d\d/);
  });

  it('says the access has expired when the server refuses, and shows nothing of the file', { timeout: 20000 }, async () => {
    const g = grant(new Date(Date.now() + 30 * 60_000));
    vi.stubGlobal('fetch', vi.fn(async () => json(403, { type: 'urn:xinqiao:problem:forbidden', title: 'Forbidden', status: 403, detail: 'the emergency access has expired' })));
    wrap(<ClientEmergencyDrawer base="/api/v1/schools/s1" grant={g} onClose={() => {}} />);
    expect(await screen.findByTestId('client-emergency-expired', {}, { timeout: 10000 })).toBeTruthy();
    expect(screen.queryByTestId('client-emergency-reading')).toBeNull();
  });
});
