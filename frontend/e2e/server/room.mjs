// The counseling room: a guardian requests a slot on the school's public request page
// (no account), the counselor accepts it for the student concerned, and the check-in
// records a session in that student's case file.
import { loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['guardian-request-accepted-and-checked-in', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-room').click();
    await page.getByTestId('tab-schedule').click();
    const href = await page.getByTestId('room-public-link').getAttribute('href');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();

    // The public page, phone-sized, without an account.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(href);
    await page.getByTestId('public-request').waitFor();
    const name = `端到端家长${stamp}`;
    await page.getByTestId('public-name').fill(name);
    await page.getByTestId('public-contact').fill('13800138000');
    await page.getByTestId('public-date').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    await page.getByTestId('public-time').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^\d\d:\d\d$/ }).first().click();
    await page.getByTestId('public-submit').click();
    await page.getByTestId('public-received').waitFor();

    // The counselor accepts it for the student concerned and checks the guardian in.
    await page.setViewportSize({ width: 1366, height: 900 });
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-room').click();
    await page.getByTestId('tab-requests').click();
    const request = page.getByTestId('room-requests').getByRole('row').filter({ hasText: name });
    await request.getByTestId('request-accept').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByTestId('accept-student').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    await modal.waitFor({ state: 'hidden' });
    await request.waitFor({ state: 'detached' });

    await page.getByRole('tab', { name: '日程' }).click();
    await page.getByTestId('calendar-mode').getByText('近两周').click();
    const row = page.getByTestId('room-calendar').getByRole('row').filter({ hasText: name });
    await row.getByTestId('appointment-checkin').click();
    await page.locator('.ant-modal:visible').getByRole('button', { name: /OK|确\s*定/ }).click();
    await row.filter({ hasText: '已签到' }).waitFor();
    await row.getByTestId('appointment-case-file').click();
    await page.getByTestId('case-file-tabs').waitFor();
    await page.getByTestId('session-item').filter({ hasText: '预约面谈' }).first().waitFor();
  }],
];
