// Teaching cases: a counselor closes a case file, drafts a teaching case from it, reviews
// every field with the removed identifiers beside them and publishes it to the district's
// case bank.
import { loggedIn, openCaseFile } from '../scenarios.mjs';

export const scenarios = [
  ['teaching-case-drafted-reviewed-published', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await openCaseFile(page);
    await page.getByTestId('case-status').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '已结案' }).click();
    await page.getByTestId('case-status').filter({ hasText: '已结案' }).waitFor();
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });

    await page.getByTestId('nav-teachingCases').click();
    await page.getByTestId('tc-new').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByTestId('tc-file').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    await modal.getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('tc-removed').waitFor();
    const title = await page.getByTestId('tc-field-title').getByRole('textbox').inputValue();
    for (const f of ['title', 'background', 'presenting_concern', 'process', 'outcome', 'reflection']) {
      await page.getByTestId(`tc-reviewed-${f}`).check();
    }
    await page.getByTestId('tc-publish').click();
    await page.getByTestId('tc-drafts').waitFor();
    await page.getByRole('tab', { name: '区案例库' }).click();
    await page.getByTestId('tc-bank').getByText(title).first().waitFor();
  }],
];
