// The resource library: a counselor finds a district book by topic, records the school's
// copy, lends it to a student (a second loan of the same copy is impossible: it shows as
// out) and takes it back.
import { loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['library-copy-lent-and-returned', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-library').click();
    const search = page.getByPlaceholder('书名、作者、简介或主题');
    await search.fill('情绪管理');
    await search.press('Enter');
    const row = page.getByTestId('library-table').getByRole('row').filter({ hasText: '青少年情绪管理手册' });
    await row.getByTestId('library-add-copy').click();
    const label = `E2E-${stamp}`;
    await page.locator('.ant-modal:visible').getByLabel('馆藏号或条码').fill(label);
    await page.locator('.ant-modal:visible').getByRole('button', { name: /OK|确\s*定/ }).click();
    const copy = row.locator('.ant-tag').filter({ hasText: label });
    await copy.getByTestId('library-lend').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByTestId('lend-student').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    await row.locator('.ant-tag').filter({ hasText: label }).filter({ hasText: '已借出' }).waitFor();
    await page.getByTestId('tab-loans').click();
    const loan = page.getByTestId('library-loans').getByRole('row').filter({ hasText: label });
    await loan.getByTestId('library-return').click();
    await loan.waitFor({ state: 'detached' });
  }],
];
