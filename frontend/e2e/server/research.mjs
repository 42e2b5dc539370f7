// Research export (科研数据导出): a researcher files a request from the codebook, the
// district admin approves it, the export builds in the worker with a progress bar, and the
// researcher downloads the manifest through the API.
import fs from 'node:fs/promises';
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['research-export-filed-approved-downloaded', async (page) => {
    const purpose = `青少年情绪研究 ${stamp}`;
    await loggedIn(page, 'researcher');
    await page.getByTestId('nav-research').click();
    await page.getByTestId('research-new').click();
    await page.getByTestId('research-purpose').fill(purpose);
    await choose(page, 'research-years', String(new Date().getFullYear()));
    await page.keyboard.press('Escape');
    await choose(page, 'research-fields', '年级');
    // The multiple select stays open: pick the second field from the same dropdown.
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '性别' }).first().click();
    await page.keyboard.press('Escape');
    await page.getByTestId('research-ethics').fill(`ETH-${stamp}`);
    await page.locator('.ant-modal:visible .ant-btn-primary').click();
    const mine = page.getByTestId('research-row').filter({ hasText: purpose });
    await mine.waitFor();
    check((await mine.getAttribute('data-status')) === 'pending', 'a new request is pending');

    await page.getByTestId('logout').click();
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-research').click();
    const row = page.getByTestId('research-row').filter({ hasText: purpose });
    await row.getByTestId('research-decide').click();
    await page.getByTestId('research-approve').click();
    await page.locator('.ant-modal:visible .ant-btn-primary').click();
    await row.and(page.locator('[data-status="approved"], [data-status="running"], [data-status="ready"]')).waitFor();

    await page.getByTestId('logout').click();
    await loggedIn(page, 'researcher');
    await page.getByTestId('nav-research').click();
    const done = page.getByTestId('research-row').filter({ hasText: purpose });
    await done.and(page.locator('[data-status="ready"]')).waitFor({ timeout: 60_000 });
    await done.locator('.ant-table-row-expand-icon').click();
    const link = page.getByTestId('research-download').filter({ hasText: 'manifest' }).first();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const body = await fs.readFile(await download.path(), 'utf8');
    check(body.includes('sha256'), 'the manifest lists the files with their SHA-256');
  }],
];
