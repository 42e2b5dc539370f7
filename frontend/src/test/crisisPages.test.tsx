import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import { MemoryRouter } from 'react-router-dom';
import type { ReactNode } from 'react';
import i18n from '../i18n';
import CrisisDetail from '../pages/crisis/CrisisDetail';
import ReferralWizard from '../pages/crisis/ReferralWizard';
import { suggestedKind, type Crisis } from '../pages/crisis/model';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

function wrap(children: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<AntApp><QueryClientProvider client={qc}><MemoryRouter>{children}</MemoryRouter></QueryClientProvider></AntApp>);
}

const base = '/api/v1/schools/s1';
const crisis: Crisis = {
  id: 'c1', case_file_id: 'f1', student_id: 'st1', student_name: '张三', student_number: 'S001', homeroom_name: '七年级一班',
  source: 'screening_alert', source_id: 'a1', level: 'imminent', status: 'open', opened_at: '2026-01-01T02:00:00Z',
  ack_due_at: '2026-01-01T02:15:00Z', guardian_due_at: '2026-01-01T03:00:00Z', assessed_at: '2026-01-01T02:10:00Z', guardian_notified_at: null,
  escalation: 'leader', closed_at: null, outcome: null, overdue: ['guardian'],
  steps: [
    { id: 's1', kind: 'reported', actor_id: 'u1', actor_name: '李老师', occurred_at: '2026-01-01T02:00:00Z', recorded_at: '2026-01-01T02:01:00Z', level: 'high', note: 'PHQ-9 第9题为2' },
    { id: 's2', kind: 'risk_assessed', actor_id: 'u1', actor_name: '李老师', occurred_at: '2026-01-01T02:10:00Z', recorded_at: '2026-01-01T02:30:00Z', level: 'imminent', method: 'interview' },
  ],
};

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('crisis screen', () => {
  it('suggests the next step the workflow needs', () => {
    expect(suggestedKind({ status: 'open' }, [])).toBe('risk_assessed');
    expect(suggestedKind({ status: 'open' }, crisis.steps!)).toBe('safety_actions');
    expect(suggestedKind({ status: 'closed' }, crisis.steps!)).toBe('addendum');
  });

  it('shows the timeline with actor and times, the overdue guardian timer, and a refusal in plain words', { timeout: 40000 }, async () => {
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      if (url === `${base}/crises/c1` ) return json(200, crisis);
      if (url === `${base}/crises/c1/steps`) {
        posted.push(JSON.parse(String(init?.body)));
        return json(409, { title: 'Conflict', status: 409, detail: 'the crisis is closed: only addenda may be recorded' });
      }
      return json(200, { items: [] });
    }));
    wrap(<CrisisDetail base={base} id="c1" />);
    const steps = await screen.findAllByTestId('crisis-step', {}, { timeout: 15000 });
    expect(steps.map((s) => s.getAttribute('data-kind'))).toEqual(['reported', 'risk_assessed']);
    expect(steps[1].textContent).toContain('李老师');
    expect(steps[1].textContent).toContain('面谈');
    expect(steps[1].textContent).toMatch(/发生 2026-01-01 \d\d:10/);
    expect(steps[1].textContent).toMatch(/记录 2026-01-01 \d\d:30/);
    const detail = screen.getByTestId('crisis-detail');
    expect(within(detail).getByTestId('timer-ack').getAttribute('data-overdue')).toBe('false');
    expect(within(detail).getByTestId('timer-guardian').getAttribute('data-overdue')).toBe('true');
    expect(screen.getByTestId('crisis-escalation').textContent).toBe('已提醒学校领导');
    // The form offers the safety actions next; the server refuses (closed meanwhile).
    fireEvent.change(screen.getByTestId('step-note'), { target: { value: '专人陪护' } });
    fireEvent.click(screen.getByTestId('step-submit'));
    expect((await screen.findByTestId('rule-message', {}, { timeout: 15000 })).textContent).toBe('该危机已结案，只能补充更正。');
    expect(posted).toEqual([{ kind: 'safety_actions', note: '专人陪护' }]);
  });

  it('is read only for the school leader', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, crisis)));
    wrap(<CrisisDetail base={base} id="c1" readOnly />);
    await screen.findAllByTestId('crisis-step', {}, { timeout: 15000 });
    expect(screen.queryByTestId('step-form')).toBeNull();
    expect(screen.queryByTestId('step-addendum')).toBeNull();
    expect(screen.queryByTestId('crisis-refer')).toBeNull();
  });
});

describe('referral wizard', () => {
  it('names the missing consent (403) and, under imminent danger, shows the one-time link', { timeout: 40000 }, async () => {
    const bodies: Record<string, unknown>[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      if (url === `${base}/institutions`) {
        return json(200, { items: [{ id: 'i1', name: '市精神卫生中心', kind: 'hospital', services: ['青少年门诊'], contact: '', accepts_direct: true, active: true }] });
      }
      if (url === `${base}/referrals` && init?.method === 'POST') {
        const b = JSON.parse(String(init.body));
        bodies.push(b);
        if (b.basis === 'consent') {
          return json(403, { title: 'Forbidden', status: 403, detail: 'no active referral consent covers 市精神卫生中心: record the guardian\'s consent first, or refer under the imminent-danger basis of a crisis' });
        }
        return json(201, { id: 'r1', status: 'sent', link: '/r/tok_abcdefghijklmnopqrstuv' });
      }
      return new Response(new Blob(['%PDF-1.4']), { status: 200, headers: { 'Content-Type': 'application/pdf' } });
    }));
    wrap(<ReferralWizard base={base} caseFileId="f1" crisis={crisis} onClose={() => {}} />);
    fireEvent.click(await screen.findByText('市精神卫生中心', {}, { timeout: 15000 }));
    fireEvent.click(screen.getByTestId('wizard-next'));
    fireEvent.click(await screen.findByText('监护人知情同意'));
    fireEvent.change(screen.getByTestId('wizard-reason'), { target: { value: '持续自伤念头' } });
    fireEvent.click(screen.getByTestId('wizard-send'));
    expect((await screen.findByTestId('rule-message', {}, { timeout: 15000 })).textContent).toBe('没有覆盖“市精神卫生中心”的有效转介知情同意。');
    fireEvent.click(screen.getByText('紧急危险'));
    fireEvent.click(screen.getByTestId('wizard-send'));
    const link = (await screen.findByTestId('referral-link', {}, { timeout: 15000 })) as HTMLInputElement;
    expect(link.value).toBe(`${window.location.origin}/r/tok_abcdefghijklmnopqrstuv`);
    await waitFor(() => expect(bodies).toHaveLength(2));
    expect(bodies[1]).toEqual({ case_file_id: 'f1', institution_id: 'i1', basis: 'imminent_danger', items: ['risk_tier'], reason: '持续自伤念头', crisis_id: 'c1' });
  });
});
