import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp } from 'antd';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import type { ReactNode } from 'react';
import i18n from '../i18n';
import { ApiError } from '../api/client';
import {
  allowedKinds, countdown, fullLink, isOverdue, loopIndex, missingForClose, nextStatuses, pendingFollowUps, ruleMessage, stepBody, timers,
  type CrisisStep,
} from '../pages/crisis/model';
import { RuleAlert } from '../pages/crisis/shared';
import ReferralLink, { linkProblem } from '../pages/ReferralLink';
import { isPublicPath } from '../App';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

function wrap(children: ReactNode, path = '/') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <AntApp>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
      </QueryClientProvider>
    </AntApp>,
  );
}

const step = (id: string, kind: string, extra: Partial<CrisisStep> = {}): CrisisStep => ({
  id, kind, actor_id: 'u', actor_name: '李老师', occurred_at: '2026-01-01T00:00:00Z', recorded_at: '2026-01-01T00:00:00Z', ...extra,
});
const problem = (status: number, detail: string) => new ApiError(status, { title: 'x', detail });

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('crisis timers', () => {
  const now = Date.parse('2026-01-01T10:00:00Z');
  it('counts down to a deadline and past it', () => {
    expect(countdown('2026-01-01T10:03:04Z', now)).toBe('3:04');
    expect(countdown('2026-01-01T12:03:04Z', now)).toBe('2:03:04');
    expect(countdown('2026-01-03T12:03:04Z', now)).toBe('2d 2:03:04');
    expect(countdown('2026-01-01T09:58:00Z', now)).toBe('-2:00');
  });

  it('marks a running deadline overdue, a met one or a closed crisis never', () => {
    const c = { ack_due_at: '2026-01-01T09:00:00Z', guardian_due_at: '2026-01-01T11:00:00Z', assessed_at: null, guardian_notified_at: null, status: 'open' as const };
    expect(timers(c, now).map((x) => [x.kind, x.overdue, x.met])).toEqual([['ack', true, false], ['guardian', false, false]]);
    expect(isOverdue(c, now)).toBe(true);
    expect(isOverdue({ ...c, assessed_at: '2026-01-01T08:59:00Z' }, now)).toBe(false);
    expect(isOverdue({ ...c, status: 'closed' }, now)).toBe(false);
  });
});

describe('crisis workflow in the form', () => {
  it('offers only the assessment before the risk is assessed, only addenda once closed', () => {
    expect(allowedKinds({ status: 'open' }, [step('a', 'reported')])).toEqual(['risk_assessed', 'addendum']);
    expect(allowedKinds({ status: 'open' }, [step('a', 'reported'), step('b', 'risk_assessed')])).toContain('closed');
    expect(allowedKinds({ status: 'closed' }, [step('a', 'reported')])).toEqual(['addendum']);
  });

  it('tells what is missing before closing, including follow-ups not done', () => {
    const steps = [step('a', 'risk_assessed'), step('b', 'follow_up_scheduled', { due_on: '2026-01-05' })];
    expect(missingForClose(steps)).toEqual(['safety', 'guardian', 'followUps']);
    expect(pendingFollowUps(steps).map((s) => s.id)).toEqual(['b']);
    const done = [...steps, step('c', 'follow_up_done', { ref_step: 'b' }), step('d', 'safety_actions'), step('e', 'guardian_notified')];
    expect(missingForClose(done)).toEqual([]);
  });

  it('sends only the fields of the step kind', () => {
    const v = { level: 'high', method: 'interview', guardian: '母亲', channel: 'phone', note: 'n', outcome: 'other', occurred_at: '2026-01-01T00:00:00Z' };
    expect(stepBody('risk_assessed', v)).toEqual({ kind: 'risk_assessed', level: 'high', method: 'interview', note: 'n', occurred_at: '2026-01-01T00:00:00Z' });
    expect(stepBody('guardian_notified', { ...v, response: '' })).toEqual({ kind: 'guardian_notified', guardian: '母亲', channel: 'phone', note: 'n', occurred_at: '2026-01-01T00:00:00Z' });
    expect(stepBody('addendum', { ...v, ref_step: 's1' })).toEqual({ kind: 'addendum', ref_step: 's1', note: 'n' });
  });
});

describe('the rules\' refusals in plain words', () => {
  it('translates the crisis and referral refusals in both languages', async () => {
    const t = i18n.t.bind(i18n);
    expect(ruleMessage(t, problem(409, 'the crisis cannot be closed before immediate safety actions, guardian notification'))).toBe('尚不能结案，还缺少：即时安全措施、通知监护人。');
    expect(ruleMessage(t, problem(409, 'assess the risk first'))).toBe('请先完成风险评估，再记录其他步骤。');
    expect(ruleMessage(t, problem(403, 'no active referral consent covers 市精神卫生中心: record the guardian\'s consent first, or refer under the imminent-danger basis of a crisis')))
      .toBe('没有覆盖“市精神卫生中心”的有效转介知情同意。');
    expect(ruleMessage(t, problem(409, 'a referral moves forward only: it is seen'))).toBe('转介状态只能向前推进：当前为“已就诊”。');
    expect(ruleMessage(t, problem(409, 'something new'))).toBeUndefined();
    expect(ruleMessage(t, new Error('network'))).toBeUndefined();
    await i18n.changeLanguage('en');
    expect(ruleMessage(i18n.t.bind(i18n), problem(409, 'the crisis cannot be closed before the scheduled follow-ups'))).toBe('The crisis cannot be closed yet. Missing: the scheduled follow-ups.');
  });

  it('shows a refusal as a clear alert with the consent hint on 403', async () => {
    wrap(<RuleAlert error={problem(403, 'no active referral consent covers 市医院: record the guardian\'s consent first')} />);
    expect((await screen.findByTestId('rule-message')).textContent).toBe('没有覆盖“市医院”的有效转介知情同意。');
    expect(screen.getByTestId('rule-refusal').textContent).toContain('知情同意');
  });
});

describe('referral loop', () => {
  it('moves forward only, declines only before the visit, closes only after it', () => {
    expect(nextStatuses('sent')).toEqual(['acknowledged', 'appointment', 'seen', 'feedback', 'declined']);
    expect(nextStatuses('seen')).toEqual(['feedback', 'closed']);
    expect(nextStatuses('closed')).toEqual([]);
    expect(nextStatuses('declined')).toEqual([]);
    expect(loopIndex({ status: 'feedback', acknowledged_at: null, appointment_at: null, seen_at: null })).toBe(4);
    expect(loopIndex({ status: 'declined', acknowledged_at: 'x', appointment_at: null, seen_at: null })).toBe(1);
  });

  it('builds the institution\'s full link from the origin', () => {
    expect(fullLink('/r/abc', 'https://xq.example.cn/')).toBe('https://xq.example.cn/r/abc');
    expect(isPublicPath('/r/abc')).toBe(true);
    expect(isPublicPath('/crises')).toBe(false);
  });
});

describe('institution acknowledgement page', () => {
  it('names used, expired, unknown links and too many tries', () => {
    expect(linkProblem(problem(404, ''))).toBe('unknown');
    expect(linkProblem(problem(409, ''))).toBe('used');
    expect(linkProblem(problem(410, ''))).toBe('expired');
    expect(linkProblem(problem(429, ''))).toBe('tooMany');
    expect(linkProblem(problem(500, ''))).toBeUndefined();
  });

  it('says an expired link has expired', { timeout: 30000 }, async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(410, { title: 'Gone', status: 410, detail: 'this link has expired' })));
    wrap(<Routes><Route path="/r/:token" element={<ReferralLink />} /></Routes>, '/r/tok-1234567890123456789012');
    const err = await screen.findByTestId('link-error', {}, { timeout: 15000 });
    expect(err.getAttribute('data-kind')).toBe('expired');
    expect(err.textContent).toContain('此链接已过期');
  });

  it('shows the reference and records a receipt with feedback, once', { timeout: 30000 }, async () => {
    const view = { reference: 'ABCD1234', school: '第一中学', institution: '市精神卫生中心', sent_at: '2026-01-01T02:00:00Z', status: 'sent' };
    const calls: { method: string; body: unknown }[] = [];
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init?: RequestInit) => {
      calls.push({ method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return json(200, init?.method === 'POST' ? { ...view, status: 'feedback' } : view);
    }));
    wrap(<Routes><Route path="/r/:token" element={<ReferralLink />} /></Routes>, '/r/tok-1234567890123456789012');
    expect((await screen.findByTestId('link-reference', {}, { timeout: 15000 })).textContent).toBe('ABCD1234');
    fireEvent.click(screen.getByTestId('link-seen'));
    fireEvent.change(screen.getByTestId('link-feedback'), { target: { value: '已就诊，建议门诊随访' } });
    fireEvent.click(screen.getByTestId('link-submit'));
    expect((await screen.findByTestId('link-thanks', {}, { timeout: 15000 })).textContent).toContain('已反馈');
    await waitFor(() => expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ received: true, appointment_at: null, seen: true, feedback: '已就诊，建议门诊随访' }));
  });
});
