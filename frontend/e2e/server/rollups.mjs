// District dashboard (统计看板): the district admin opens the dashboard, sees the trend
// chart drawn from the published (suppressed) rollups and a suppressed cell marked "<5",
// and downloads the CSV of exactly that table.
import fs from 'node:fs/promises';
import { check, loggedIn } from '../scenarios.mjs';

export const scenarios = [
  ['district-dashboard-suppressed-csv', async (page) => {
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-dashboard').click();
    // The demo's sessions by channel, by month: the chart is drawn on a canvas.
    await page.locator('[data-testid="chart-trend"] canvas').first().waitFor();
    await page.locator('[data-testid="chart-comparison"] canvas').first().waitFor();
    const marker = page.getByTestId('rollup-table').getByTestId('suppressed-cell').first();
    await marker.waitFor();
    const text = (await marker.innerText()).trim();
    check(text === '<5' || text === '*', `suppressed marker ${text}`);
    check(await page.getByTestId('rollup-table').getByTestId('suppressed-cell').filter({ hasText: '<5' }).count() > 0, 'no "<5" cell is marked');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('rollup-csv').click()]);
    check(download.suggestedFilename().endsWith('.csv'), `suggested file name ${download.suggestedFilename()}`);
    const body = await fs.readFile(await download.path(), 'utf8');
    check(body.startsWith('\ufeff'), 'the CSV has no BOM');
    check(body.includes('<5'), 'the CSV does not hold the suppressed cells as shown');
    // The CSV's first data line is the table's first row (same periods, same order).
    const firstPeriod = (await page.getByTestId('rollup-table').locator('tbody tr.ant-table-row').first().locator('td').first().innerText()).trim();
    check(body.split('\n')[1].startsWith(firstPeriod), `first CSV line ${body.split('\n')[1]} is not the period ${firstPeriod}`);
  }],
];
