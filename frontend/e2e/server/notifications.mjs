// Notifications: a counselor turns on e-mail reminders in "my account"; a homeroom
// teacher's concern then shows on the counselor's bell and arrives as one generic e-mail
// in the local Mailpit (XINQIAO_TEST_MAILPIT_URL) without the student or the observation.
// The district supervisor's bell opens the district inbox.
import { check, loggedIn, stamp, stepTimeout } from '../scenarios.mjs';

const mailpit = process.env.XINQIAO_TEST_MAILPIT_URL || 'http://127.0.0.1:58025';

async function mailsTo(to) {
  const res = await fetch(`${mailpit}/api/v1/search?query=${encodeURIComponent(`to:"${to}"`)}`);
  check(res.ok, `mailpit search: ${res.status}`);
  return (await res.json()).messages ?? [];
}

async function waitForMail(to) {
  const deadline = Date.now() + 3 * stepTimeout;
  for (;;) {
    const found = await mailsTo(to);
    if (found.length > 0) return found;
    check(Date.now() < deadline, `no e-mail reached ${to}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function logout(page) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
}

export const scenarios = [
  ['notification-bell-and-email', async (page) => {
    const to = `counselor-${stamp}@e2e.example`;
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('current-user').click();
    const email = page.getByTestId('account-email');
    await email.waitFor();
    await email.fill(to);
    const enabled = page.getByTestId('account-email-enabled');
    if ((await enabled.getAttribute('aria-checked')) !== 'true') await enabled.click();
    await page.getByTestId('account-save').click();
    await email.waitFor({ state: 'hidden' });
    await logout(page);

    const observation = `端到端邮件：午休时独自哭泣 ${stamp}`;
    await loggedIn(page, 'teacher.s1');
    await page.getByTestId('nav-concerns').click();
    await page.getByTestId('concerns-table').waitFor();
    await page.getByTestId('concern-raise').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByTestId('concern-student').click();
    const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').first();
    const student = (await option.innerText()).split(/\s|（|\(/)[0];
    await option.click();
    await modal.getByLabel('观察到的情况').fill(observation);
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('concerns-table').getByRole('row').filter({ hasText: '已接收' }).first().waitFor();
    await logout(page);

    await loggedIn(page, 'counselor.s1');
    const bell = page.getByTestId('notification-bell');
    await bell.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="notification-bell"]')?.getAttribute('data-unread')) > 0);
    await bell.click();
    await page.getByTestId('inbox-list').locator('[data-kind="concern_raised"]').first().waitFor();

    const [mail] = await waitForMail(to);
    const full = await (await fetch(`${mailpit}/api/v1/message/${mail.ID}`)).json();
    const text = `${full.Subject}\n${full.Text}\n${full.HTML}`;
    check(text.includes('待办事项') && text.includes('/inbox'), `the e-mail lacks the notice or the link:\n${text}`);
    for (const leak of [observation, '端到端邮件', student].filter((s) => s && s.length > 1)) {
      check(!text.includes(leak), `the e-mail contains "${leak}"`);
    }
  }],
  ['district-supervisor-bell-opens-district-inbox', async (page) => {
    await loggedIn(page, 'district.supervisor');
    await page.getByTestId('notification-bell').click();
    await page.getByTestId('inbox-list').locator('[data-kind="email_reminders_available"]').first().waitFor();
    check(new URL(page.url()).pathname === '/inbox', `the bell went to ${page.url()}`);
  }],
];
