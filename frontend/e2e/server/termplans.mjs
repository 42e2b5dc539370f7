// School term plans (学校学期计划): the district publishes a plan, the school answers its
// indicator (a planned date, an owner) and submits; the district sees the submission,
// accepts it, and the school's term plan is then locked.
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

async function switchTo(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

export const scenarios = [
  ['term-plan-submitted-and-accepted', async (page) => {
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-districtPlans').click();
    await page.getByTestId('plan-create').click();
    await choose(page, 'plan-term', '本学期（示范）');
    const title = `学期计划测试 ${stamp}`;
    await page.getByTestId('plan-title').fill(title);
    await page.getByTestId('indicator-name').fill('心理健康讲座不少于2次');
    await page.getByTestId('plan-save').click();
    const row = page.getByTestId('plan-row').filter({ hasText: title });
    await row.getByTestId('plan-publish').click();
    await row.getByTestId('plan-status').filter({ hasText: '已发布' }).waitFor();

    // The school answers the indicator and submits.
    await switchTo(page, 'counselor.s1');
    await page.getByTestId('nav-programs').click();
    await page.getByTestId('task').filter({ hasText: title }).getByTestId('term-plan-open').click();
    await page.locator('[data-testid="term-plan-status"][data-status="draft"]').waitFor();
    check(await page.getByTestId('term-plan-submit').isDisabled(), 'an unanswered term plan can be submitted');
    const answer = page.getByTestId('term-plan-row').first();
    await answer.locator('.ant-picker').click();
    await page.locator('.ant-picker-dropdown:visible .ant-picker-cell-today .ant-picker-cell-inner').click();
    await answer.locator('td').first().click(); // closes the calendar
    await answer.getByTestId('term-plan-owners').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '心理辅导教师' }).first().click();
    await page.getByTestId('term-plan-note').fill(`由心理辅导教师牵头 ${stamp}`);
    await page.getByTestId('term-plan-save').click();
    await page.getByTestId('term-plan-submit').click();
    await page.locator('[data-testid="term-plan-status"][data-status="submitted"]').waitFor();
    await page.locator('.ant-drawer-close:visible').click();

    // The district sees the submission (and who has not submitted) and accepts it.
    await switchTo(page, 'district.admin');
    await page.getByTestId('nav-districtPlans').click();
    await page.getByTestId('plan-row').filter({ hasText: title }).getByTestId('plan-term-plans').click();
    const school = page.getByTestId('term-plan-school').filter({ hasText: '示范区第一中学' });
    await school.locator('[data-testid="term-plan-school-status"][data-status="submitted"]').waitFor();
    check(await page.locator('[data-testid="term-plan-school-status"][data-status="not_submitted"]').count() > 0, 'no school shown as not submitted');
    await school.click();
    await page.getByTestId('term-plan-answers').getByText('心理健康讲座不少于2次').waitFor();
    await page.getByTestId('term-plan-accept').click();
    await school.locator('[data-testid="term-plan-school-status"][data-status="accepted"]').waitFor();
    await page.locator('.ant-drawer-close:visible').click();

    // Accepted: locked for the school.
    await switchTo(page, 'counselor.s1');
    await page.getByTestId('nav-programs').click();
    await page.getByTestId('task').filter({ hasText: title }).getByTestId('term-plan-open').click();
    await page.locator('[data-testid="term-plan-status"][data-status="accepted"]').waitFor();
    check(await page.getByTestId('term-plan-submit').count() === 0, 'an accepted term plan can still be submitted');
  }],
];
