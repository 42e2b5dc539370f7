// Consent and disclosure on the case file (知情同意与信息披露), against the real server.
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['counselor-consent-disclosure', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-caseFiles').click();
    await page.getByTestId('case-files-table').waitFor();
    // Open the case file of a student no other scenario uses (the fifth of the list).
    await page.getByTestId('case-open').click();
    const picker = page.locator('.ant-modal:visible');
    await picker.locator('tbody tr').nth(4).waitFor();
    await picker.locator('tbody tr').nth(4).getByText('建立档案').click();
    await page.getByTestId('tab-consent').click();

    // A guardian's consent to share with a named hospital.
    const hospital = `市第一人民医院 ${stamp}`;
    await page.getByTestId('consent-new').click();
    await page.getByTestId('consent-guardian').fill('王丽（母亲）');
    await page.getByTestId('consent-recipient').fill(hospital);
    await page.getByTestId('consent-ok').click();
    const row = page.getByTestId('consents-table').locator('tbody tr').filter({ hasText: hospital });
    await row.getByTestId('consent-status').getByText('有效').waitFor();
    check((await row.innerText()).includes('王丽（母亲）'), 'the consent row names the guardian');

    // A disclosure to that hospital under the consent.
    await page.getByTestId('disclosure-new').click();
    const form = page.locator('.ant-modal:visible');
    await page.getByTestId('disclosure-recipient-name').fill(hospital);
    await choose(page, 'disclosure-consent', hospital);
    await form.getByText('预警等级', { exact: true }).click();
    await form.getByText('情况摘要', { exact: true }).click();
    await page.getByTestId('disclosure-ok').click();
    await form.waitFor({ state: 'hidden' });
    const entry = page.getByTestId('log-entry').filter({ hasText: hospital });
    await entry.waitFor();

    // Revoke the consent, with a reason.
    await row.getByTestId('consent-revoke').click();
    await page.getByTestId('revoke-reason').fill('家长来电撤回同意');
    await page.getByTestId('revoke-ok').click();
    await row.getByTestId('consent-status').getByText('已撤回').waitFor();
    check(!(await row.getByTestId('consent-revoke').isVisible()), 'a revoked consent cannot be revoked again');

    // The log keeps the disclosure made under it; no active consent is left to cite.
    const text = await entry.innerText();
    check(text.includes('知情同意') && text.includes('预警等级') && text.includes('情况摘要'), `log entry: ${text}`);
    await page.getByTestId('disclosure-new').click();
    await page.locator('.ant-modal:visible').getByText('本档案没有有效的信息提供同意').waitFor();
    await page.locator('.ant-modal:visible .ant-modal-close').click();
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });
  }],
];
