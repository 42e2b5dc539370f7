// Crisis intervention and referral end to end (issue 5): a PHQ-9 critical-item alert of the
// demo data becomes a crisis (from the screening alert queue); the district supervisor does not see it on the crisis board;
// its deadlines are moved into the past (psql as the owner) so that the worker's
// crisis:escalate job (every minute) escalates it to the district, where the supervisor
// sees it without a name and comments; the counselor records the risk assessment (a 409
// when closing too early, shown in plain words) and the guardian notification, refers the
// student to a partner institution under imminent danger, the institution acknowledges
// through its one-time link in a fresh context (and the link then answers "used"), and the
// crisis is closed after the safety actions.
import { execFileSync } from 'node:child_process';
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

const db = process.env.XINQIAO_E2E_DB || 'xinqiao_e2e';

function psql(sql) {
  return execFileSync('psql', ['-h', '127.0.0.1', '-p', '55432', '-U', 'postgres', '-d', db, '-qtA', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGPASSWORD: 'postgres_local' }, encoding: 'utf8',
  }).trim();
}

async function switchUser(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

// boardIds lists the crisis ids on the district's board, as the logged-in supervisor sees them.
async function boardIds(page) {
  return page.evaluate(async () => {
    const me = await fetch('/api/v1/me', { credentials: 'same-origin' }).then((r) => r.json());
    const d = me.memberships[0].district_id;
    const res = await fetch(`/api/v1/districts/${d}/crisis-board`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`crisis-board answered ${res.status}`);
    return (await res.json()).items.map((x) => x.crisis_id);
  });
}

async function recordStep(page, kindLabel, fill) {
  await choose(page, 'step-kind', kindLabel);
  await fill();
  await page.getByTestId('step-submit').click();
}

export const scenarios = [
  ['crisis-alert-to-closed-referral', async (page) => {
    const browser = page.context().browser();
    const institution = `端到端精神卫生中心 ${stamp}`;

    // 1. The district administrator adds a partner institution.
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-institutions').click();
    await page.getByTestId('institution-new').click();
    await page.getByTestId('institution-name').fill(institution);
    await page.getByTestId('institution-contact').fill('门诊部 0571-00000000');
    await page.getByTestId('institution-ok').click();
    await page.getByTestId('institutions-table').getByText(institution).waitFor();

    // 2. The counselor opens a crisis from the PHQ-9 critical-item alert.
    await switchUser(page, 'counselor.s1');
    await page.getByTestId('nav-screeningAlerts').click();
    const alertRow = page.getByTestId('alerts-table').locator('tbody tr.ant-table-row').filter({ hasText: 'PHQ' }).filter({ hasText: '关键题' }).first();
    await alertRow.getByTestId('crisis-open-from-alert').click();
    await page.getByTestId('crisis-open-from').waitFor();
    await choose(page, 'crisis-open-level', '高');
    await page.getByTestId('crisis-open-note').fill(`端到端：PHQ-9 第9题为2 ${stamp}`);
    await page.getByTestId('crisis-open-submit').click();
    await page.getByTestId('crisis-detail').waitFor();
    const crisisId = new URL(page.url()).searchParams.get('crisis');
    check(/^[0-9a-f-]{36}$/.test(crisisId ?? ''), `no crisis id in ${page.url()}`);
    await page.locator('[data-testid="crisis-step"][data-kind="reported"]').waitFor();
    check((await page.getByTestId('crisis-detail').getByTestId('timer-ack').getAttribute('data-overdue')) === 'false', 'a fresh crisis is overdue');

    // 3. The district supervisor does not see a crisis that was not escalated.
    const supCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
    supCtx.setDefaultTimeout(15_000);
    const sup = await supCtx.newPage();
    try {
      await loggedIn(sup, 'district.supervisor');
      await sup.getByTestId('nav-crisisBoard').click();
      await sup.getByTestId('board-table').waitFor();
      await sup.waitForLoadState('networkidle');
      check(!(await boardIds(sup)).includes(crisisId), 'the crisis is on the district board before any escalation');
      const before = await sup.getByTestId('board-table').locator('tbody tr.ant-table-row').count();

      // 4. Both deadlines long past: the worker escalates it (leader, then district).
      psql(`UPDATE crises SET ack_due_at = now() - interval '3 hours', guardian_due_at = now() - interval '3 hours', opened_at = now() - interval '3 hours' WHERE id = '${crisisId}'`);
      let seen = false;
      for (let i = 0; i < 22 && !seen; i++) {
        seen = (await boardIds(sup)).includes(crisisId);
        if (!seen) await sup.waitForTimeout(5000);
      }
      check(seen, 'the worker did not escalate the overdue crisis to the district within 110 s');
      await sup.reload();
      const rows = sup.getByTestId('board-table').locator('tbody tr.ant-table-row');
      await rows.nth(before).waitFor();
      check((await rows.count()) === before + 1, `board rows: ${await rows.count()}, want ${before + 1}`);
      const student = psql(`SELECT st.name FROM crises c JOIN students st ON st.id = c.student_id WHERE c.id = '${crisisId}'`);
      check(!(await sup.getByTestId('board-table').innerText()).includes(student), 'the board shows the student name');
      await rows.first().click(); // open crises first, the latest escalation on top
      await sup.getByTestId('board-detail').waitFor();
      await sup.getByTestId('board-no-names').waitFor();
      await sup.getByTestId('board-note-body').fill(`端到端：请当天完成监护人通知 ${stamp}`);
      await sup.getByTestId('board-note-submit').click();
      await sup.getByTestId('board-note').filter({ hasText: stamp }).waitFor();
    } finally {
      await supCtx.close().catch(() => {});
    }

    // 5. The counselor sees the overdue timers and the escalation, then records the steps.
    await page.reload();
    await page.getByTestId('crisis-detail').waitFor();
    check((await page.getByTestId('crisis-detail').getByTestId('timer-ack').getAttribute('data-overdue')) === 'true', 'the overdue acknowledgement is not shown as overdue');
    check((await page.getByTestId('crisis-escalation').innerText()).includes('区督导'), `escalation: ${await page.getByTestId('crisis-escalation').innerText()}`);
    await page.getByTestId('district-note').filter({ hasText: stamp }).waitFor();
    await recordStep(page, '风险评估', async () => {
      await choose(page, 'step-level', '紧急');
      await choose(page, 'step-method', '面谈');
      await page.getByTestId('step-note').fill('有具体计划，需专人陪护');
    });
    await page.locator('[data-testid="crisis-step"][data-kind="risk_assessed"]').waitFor();
    // Closing now is refused by the rules (409), in plain words.
    await recordStep(page, '结案', async () => {
      await choose(page, 'step-outcome', '情况稳定');
    });
    const refusal = (await page.getByTestId('rule-message').innerText()).trim();
    check(refusal.startsWith('尚不能结案') && refusal.includes('通知监护人') && refusal.includes('即时安全措施'), `refusal: ${refusal}`);
    await recordStep(page, '通知监护人', async () => {
      await page.getByTestId('step-guardian').fill('母亲 王丽');
      await choose(page, 'step-channel', '电话');
      await page.getByTestId('step-response').fill('立即到校，同意就医');
    });
    const guardianStep = page.locator('[data-testid="crisis-step"][data-kind="guardian_notified"]');
    await guardianStep.waitFor();
    check((await guardianStep.innerText()).includes('母亲 王丽'), 'the guardian step lacks who was told');
    check((await page.getByTestId('crisis-detail').getByTestId('timer-guardian').innerText()).includes('已完成'), 'the guardian timer is not met');

    // 6. Referral under imminent danger: one-time link and the letter.
    await page.getByTestId('crisis-refer').click();
    const wizard = page.locator('.ant-modal:visible');
    await wizard.getByText(institution).click();
    await page.getByTestId('wizard-next').click();
    await wizard.getByText('危机情况').click();
    await page.getByTestId('wizard-reason').fill('有具体自杀计划，需精神科紧急评估');
    await page.getByTestId('wizard-send').click();
    const link = await page.getByTestId('referral-link').inputValue();
    check(/\/r\/[A-Za-z0-9_-]{20,}$/.test(link), `link: ${link}`);
    await page.getByTestId('letter-preview').waitFor();
    await page.getByTestId('wizard-close').click();
    await page.locator('[data-testid="crisis-step"][data-kind="referred"]').waitFor();

    // 7. The institution acknowledges through its link, without an account, once.
    const instCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } });
    instCtx.setDefaultTimeout(15_000);
    const inst = await instCtx.newPage();
    try {
      await inst.goto(link);
      await inst.getByTestId('link-reference').waitFor();
      check(!(await inst.locator('body').innerText()).includes(psql(`SELECT st.name FROM crises c JOIN students st ON st.id = c.student_id WHERE c.id = '${crisisId}'`)), 'the link page shows the student');
      await inst.getByTestId('link-seen').click();
      await inst.getByTestId('link-feedback').fill('已接诊，建议门诊随访');
      await inst.getByTestId('link-submit').click();
      await inst.getByTestId('link-thanks').waitFor();
      await inst.reload();
      const used = inst.getByTestId('link-error');
      await used.waitFor();
      check((await used.getAttribute('data-kind')) === 'used', `second visit: ${await used.getAttribute('data-kind')}`);
    } finally {
      await instCtx.close().catch(() => {});
    }
    await page.reload();
    await page.getByTestId('crisis-detail').waitFor();
    const refRow = page.getByTestId('referrals-table').locator('tbody tr.ant-table-row').first();
    await refRow.getByText('已反馈').waitFor();

    // 8. Safety actions, then the crisis is closed.
    await recordStep(page, '即时安全措施', async () => {
      await page.getByTestId('step-note').fill('专人陪护，移除危险物品，家长接回');
    });
    await page.locator('[data-testid="crisis-step"][data-kind="safety_actions"]').waitFor();
    await recordStep(page, '结案', async () => {
      await choose(page, 'step-outcome', '转介治疗');
    });
    await page.locator('[data-testid="crisis-step"][data-kind="closed"]').waitFor();
    check((await page.getByTestId('crisis-status').innerText()).trim() === '已结案', 'the crisis is not closed');

    // 9. The school leader reads the closed crisis, without forms.
    const student = psql(`SELECT st.name FROM crises c JOIN students st ON st.id = c.student_id WHERE c.id = '${crisisId}'`);
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await switchUser(page, 'leader.s1');
    await page.getByTestId('nav-crises').click();
    await page.getByTestId('crisis-filter').getByText('已结案').click();
    await page.getByTestId('crises-table').locator('tbody tr.ant-table-row').filter({ hasText: student }).first().click();
    await page.locator('[data-testid="crisis-step"][data-kind="closed"]').waitFor();
    check((await page.getByTestId('step-form').count()) === 0, 'the school leader gets the step form');
  }],
];
