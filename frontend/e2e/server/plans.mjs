// Support plans (一生一策): a counselor opens a case file, creates a plan with a review
// date and records a review; the session form offers the district's concern categories.
import { check, loggedIn, openCaseFile, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['counselor-support-plan', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await openCaseFile(page);
    await page.getByTestId('tab-plans').click();
    await page.getByTestId('plan-new').click();
    const goal = `端到端目标：每周到校五天 ${stamp}`;
    await page.getByTestId('plan-goals').fill(goal);
    await page.getByTestId('plan-actions').fill('班主任每日关注出勤\n家长每周反馈');
    await page.getByTestId('plan-responsible-role').fill('班主任');
    await page.getByTestId('plan-save').click();
    const card = page.getByTestId('plan-card').filter({ hasText: goal });
    await card.waitFor();
    const date = (await card.getByTestId('plan-review-date').innerText()).trim();
    check(/\d{4}-\d{2}-\d{2}/.test(date), `the plan shows no review date: ${date}`);
    check((await card.getByTestId('plan-overdue').count()) === 0, 'a new plan is shown overdue');
    await card.getByTestId('plan-review').click();
    const outcome = `出勤明显改善 ${stamp}`;
    await page.getByTestId('plan-outcome').fill(outcome);
    await page.getByTestId('plan-review-save').click();
    await card.getByTestId('plan-review-item').filter({ hasText: outcome }).waitFor();
    // The session form offers the district's concern categories (loaded from the API).
    await page.getByRole('tab', { name: '会谈时间线' }).click();
    await page.getByTestId('session-new').click();
    await page.getByTestId('session-categories').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '情绪' }).first().waitFor();
    await page.keyboard.press('Escape');
  }],
];
