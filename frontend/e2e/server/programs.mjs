// District plans (区计划): the district publishes a plan, a school records two lectures,
// and the lectures indicator turns "met" in the school's task and the district's matrix.
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

async function switchTo(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

const number = (page, id) => page.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`).first();

export const scenarios = [
  ['district-plan-compliance', async (page) => {
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-districtPlans').click();
    await page.getByTestId('plan-create').click();
    await choose(page, 'plan-term', '本学期（示范）');
    const title = `讲座计划 ${stamp}`;
    await page.getByTestId('plan-title').fill(title);
    // The new plan starts with one indicator: a count of lectures, target 2.
    await page.getByTestId('indicator-name').fill('心理健康讲座不少于2次');
    await page.getByTestId('plan-save').click();
    const row = page.getByTestId('plan-row').filter({ hasText: title });
    await row.getByTestId('plan-publish').click();
    await row.getByTestId('plan-status').filter({ hasText: '已发布' }).waitFor();

    await switchTo(page, 'counselor.s1');
    await page.getByTestId('nav-programs').click();
    const task = page.getByTestId('task').filter({ hasText: title });
    await task.locator('[data-testid="compliance-cell"][data-code="lectures"]').waitFor();
    check(await task.locator('[data-testid="compliance-cell"][data-status="met"]').count() === 0, 'met before any lecture');
    // Attendance above the audience is refused with a clear message; nothing is stored.
    await page.getByTestId('activity-record').click();
    await page.getByTestId('activity-title').fill(`人数有误的讲座 ${stamp}`);
    await number(page, 'activity-audience-size').fill('100');
    await number(page, 'activity-attendance').fill('120');
    await page.getByTestId('activity-save').click();
    await page.locator('.ant-modal:visible .ant-form-item-explain-error').filter({ hasText: '实到人数不能多于应到人数' }).waitFor();
    await page.locator('.ant-modal:visible .ant-modal-close').click();
    for (const name of ['情绪管理讲座', '压力应对讲座']) {
      await page.getByTestId('activity-record').click();
      await page.getByTestId('activity-title').fill(`${name} ${stamp}`);
      await number(page, 'activity-audience-size').fill('300');
      await number(page, 'activity-attendance').fill('280');
      await page.getByTestId('activity-save').click();
      await page.getByTestId('activity-row').filter({ hasText: `${name} ${stamp}` }).waitFor();
    }
    check(await page.getByTestId('activity-row').filter({ hasText: `人数有误的讲座 ${stamp}` }).count() === 0, 'the refused activity was stored');
    await task.locator('[data-testid="compliance-cell"][data-code="lectures"][data-status="met"]').waitFor();

    await switchTo(page, 'district.admin');
    await page.getByTestId('nav-districtPlans').click();
    await page.getByTestId('plan-row').filter({ hasText: title }).getByTestId('plan-compliance').click();
    const school = page.getByTestId('compliance-row').filter({ hasText: '示范区第一中学' });
    await school.locator('[data-testid="compliance-cell"][data-code="lectures"][data-status="met"]').waitFor();
    // Drill down: the two lectures are the evidence behind the status.
    await school.click();
    await page.getByTestId('drill-activities').getByText(`情绪管理讲座 ${stamp}`).waitFor();
  }],
];
