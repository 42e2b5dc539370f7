// Case-file documents (资料) on the real server: a counselor uploads a scan to a case file,
// sees it listed and downloads it through the API.
import fs from 'node:fs';
import { check, choose, fixture, loggedIn, openCaseFile, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['counselor-document-upload-download', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await openCaseFile(page);
    const drawer = page.locator('.ant-drawer:visible');
    await drawer.getByRole('tab', { name: '资料' }).click();
    const title = `家长知情同意书 ${stamp}`;
    await drawer.locator('input[type=file]').setInputFiles(fixture('consent_scan.png'));
    await choose(page, 'doc-kind', '知情同意书');
    await page.getByTestId('doc-title').fill(title);
    await page.getByTestId('doc-submit').click();
    const row = page.getByTestId('doc-item').filter({ hasText: title });
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    check(cells.some((c) => c.includes('consent_scan.png')), `file name not listed: ${cells.join(' | ')}`);
    check(cells.some((c) => c.includes('知情同意书')), `kind not listed: ${cells.join(' | ')}`);

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('doc-download').click()]);
    check(download.suggestedFilename() === 'consent_scan.png', `suggested file name ${download.suggestedFilename()}`);
    const saved = await download.path();
    const want = fs.readFileSync(fixture('consent_scan.png'));
    const got = fs.readFileSync(saved);
    check(got.length === want.length && got.equals(want), `downloaded ${got.length} bytes, uploaded ${want.length}`);
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });
  }],
];
