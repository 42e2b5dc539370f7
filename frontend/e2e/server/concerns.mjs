// A homeroom teacher raises a concern; it appears in the counselor's intake queue, the
// counselor takes it in, and the teacher sees it in progress.
import { loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['teacher-concern-to-intake-queue', async (page) => {
    const observation = `端到端：最近常常一个人发呆 ${stamp}`;
    await loggedIn(page, 'teacher.s1');
    await page.getByTestId('nav-concerns').click();
    await page.getByTestId('concerns-table').waitFor();
    await page.getByTestId('concern-raise').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByTestId('concern-student').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    await modal.getByLabel('观察到的情况').fill(observation);
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('concerns-table').getByRole('row').filter({ hasText: '已接收' }).first().waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();

    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-intake').click();
    const row = page.getByTestId('intake-table').getByRole('row').filter({ hasText: observation.slice(0, 12) });
    await row.waitFor();
    await row.getByTestId('intake-accept').click();
    await page.getByTestId('intake-table').getByRole('row').filter({ hasText: '处理中' }).first().waitFor();
    await page.getByTestId('nav-inbox').click();
    await page.getByTestId('inbox-list').waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();

    await loggedIn(page, 'teacher.s1');
    await page.getByTestId('nav-concerns').click();
    await page.getByTestId('concerns-table').getByRole('row').filter({ hasText: '处理中' }).first().waitFor();
  }],
];
