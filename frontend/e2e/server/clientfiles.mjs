// Staff and guardian clients: a counselor opens a guardian's confidential file and records
// a session; the school leader has no such menu.
import { loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['guardian-client-file-and-session', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-clientFiles').click();
    await page.getByTestId('client-open').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.locator('.ant-select').first().click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '家长' }).click();
    const name = `端到端家长${stamp}`;
    await modal.getByLabel('姓名').fill(name);
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    const drawer = page.locator('.ant-drawer:visible');
    await drawer.getByLabel('摘要').fill('孩子厌学，家长焦虑');
    await drawer.getByTestId('client-session-save').click();
    await drawer.getByTestId('client-session').filter({ hasText: '孩子厌学' }).waitFor();
    await drawer.locator('.ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });
    await page.getByTestId('client-files').getByRole('row').filter({ hasText: name }).waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();
    await loggedIn(page, 'leader.s1');
    if (await page.getByTestId('nav-clientFiles').count() !== 0) throw new Error('the leader has the client files menu');
  }],
];
