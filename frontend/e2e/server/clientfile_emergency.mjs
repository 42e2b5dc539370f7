// Emergency access to a staff or guardian client's file end to end: a counselor opens a
// guardian's file and records a session; the school leader, who never sees these files,
// opens it by its number with a reason and their password and reads it (no counselor's
// note); the counselor is told in the inbox and sees the grant on the file.
import { check, loggedIn, stamp } from '../scenarios.mjs';

async function switchUser(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

export const scenarios = [
  ['leader-client-file-emergency-access', async (page) => {
    // 1. The counselor opens a guardian's file, records a session and notes its number.
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-clientFiles').click();
    await page.getByTestId('client-open').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.locator('.ant-select').first().click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '家长' }).click();
    await modal.getByLabel('姓名').fill(`端到端紧急家长${stamp}`);
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    const drawer = page.locator('.ant-drawer:visible');
    const summary = `端到端：家长情绪崩溃 ${stamp}`;
    await drawer.getByLabel('摘要').fill(summary);
    await drawer.getByLabel('笔记').fill(`只给咨询师看的笔记 ${stamp}`);
    await drawer.getByTestId('client-session-save').click();
    await drawer.getByTestId('client-session').filter({ hasText: summary }).waitFor();
    const number = (await drawer.getByTestId('client-file-number').innerText()).trim();
    check(/^[0-9a-f-]{36}$/.test(number), `unexpected file number: ${number}`);
    await drawer.locator('.ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });

    // 2. The leader opens the file by its number from the warning list page.
    await switchUser(page, 'leader.s1');
    await page.getByTestId('nav-warningList').click();
    await page.getByTestId('client-emergency-number').fill(number);
    await page.getByTestId('client-emergency-open').click();
    await page.getByTestId('emergency-warning').waitFor();
    await page.getByTestId('emergency-reason').fill(`端到端：家长失联，家属求助 ${stamp}`);
    await page.getByTestId('emergency-password').fill('xinqiao-demo');
    await page.getByTestId('emergency-submit').click();
    await page.getByTestId('client-emergency-session').filter({ hasText: summary }).waitFor();
    const countdown = (await page.getByTestId('client-emergency-countdown').innerText()).trim();
    check(/剩余 (59|60):\d\d/.test(countdown), `unexpected countdown: ${countdown}`);
    check(!(await page.getByTestId('client-emergency-reading').innerText()).includes('只给咨询师看的笔记'), 'the counselor\'s note reached the leader');
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });

    // 3. The counselor is told, and sees the grant on the file.
    await switchUser(page, 'counselor.s1');
    await page.getByTestId('nav-inbox').click();
    const item = page.locator('[data-testid="inbox-item"][data-kind="client_file_emergency_opened"]').first();
    await item.waitFor();
    const text = await item.innerText();
    check(text.includes('学校领导') && text.includes('咨询档案'), `unexpected notice: ${text}`);
    await page.getByTestId('nav-clientFiles').click();
    await page.getByTestId('client-files').getByRole('row').filter({ hasText: `端到端紧急家长${stamp}` }).click();
    await page.locator('.ant-drawer:visible').getByTestId('emergency-grants').locator('tbody tr').filter({ hasText: '学校领导' }).first().waitFor();
  }],
];
