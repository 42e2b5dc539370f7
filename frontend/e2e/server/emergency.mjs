// Emergency access (紧急查阅) end to end: a counselor raises a file to tier "high" so it is
// on the warning list; the school leader opens it by emergency access and sees the
// timeline; the counselor finds the notice in the inbox; the district administrator
// closes the review with a verdict.
import { check, loggedIn, stamp } from '../scenarios.mjs';

async function switchUser(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

// openFreshCaseFile opens a case file for the first student of the list who has none yet
// and returns the student's name.
async function openFreshCaseFile(page) {
  await page.getByTestId('nav-caseFiles').click();
  await page.getByTestId('case-files-table').waitFor();
  await page.getByTestId('case-open').click();
  const modal = page.locator('.ant-modal:visible');
  await modal.locator('tbody tr').first().waitFor();
  const rows = modal.locator('tbody tr');
  const n = await rows.count();
  for (let i = n - 1; i >= 0; i--) {
    const row = rows.nth(i);
    const name = (await row.locator('td').nth(1).innerText()).trim();
    await row.getByText('建立档案').click();
    const drawer = page.locator('.ant-drawer-content-wrapper:visible');
    const refused = modal.getByTestId('problem');
    await drawer.or(refused).first().waitFor();
    if (await drawer.isVisible()) return name;
  }
  throw new Error('no student without a case file');
}

export const scenarios = [
  ['leader-emergency-access', async (page) => {
    const reason = `端到端：学生失联，家长求助 ${stamp}`;
    // 1. The counselor opens a case file, records a session and raises the tier to high.
    await loggedIn(page, 'counselor.s1');
    const student = await openFreshCaseFile(page);
    const drawer = page.locator('.ant-drawer:visible');
    await page.getByTestId('session-new').click();
    const summary = `端到端：紧急查阅前的谈话 ${stamp}`;
    await page.getByLabel('摘要').fill(summary);
    await page.getByLabel('辅导笔记').fill('需要持续关注。');
    await page.locator('.ant-modal:visible').getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('session-item').filter({ hasText: summary }).waitFor();
    await drawer.locator('.ant-select').first().click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^高$/ }).click();
    await drawer.getByPlaceholder('理由').fill('近期情绪明显低落');
    await drawer.locator('form').getByRole('button', { name: /保\s*存/ }).click(); // not a signed session's addendum button
    await drawer.locator('.ant-tag').filter({ hasText: /^高$/ }).first().waitFor();
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });

    // 2. The leader opens the file from the warning list by emergency access.
    await switchUser(page, 'leader.s1');
    await page.getByTestId('nav-warningList').click();
    const row = page.getByTestId('warning-table').locator('tbody tr').filter({ hasText: student });
    await row.getByTestId('emergency-open').click();
    await page.getByTestId('emergency-warning').waitFor();
    await page.getByTestId('emergency-reason').fill(reason);
    await page.getByTestId('emergency-password').fill('xinqiao-demo');
    await page.getByTestId('emergency-submit').click();
    const session = page.getByTestId('emergency-session').filter({ hasText: summary });
    await session.waitFor();
    const countdown = (await page.getByTestId('emergency-countdown').innerText()).trim();
    check(/剩余 (59|60):\d\d/.test(countdown), `unexpected countdown: ${countdown}`);
    check(await page.getByTestId('emergency-expired').count() === 0, 'a fresh grant shows as expired');
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });

    // 3. The counselor is told in the inbox.
    await switchUser(page, 'counselor.s1');
    await page.getByTestId('nav-inbox').click();
    const item = page.locator('[data-testid="inbox-item"][data-kind="emergency_access_opened"]').first();
    await item.waitFor();
    const text = await item.innerText();
    check(text.includes('学校领导') && text.includes('紧急查阅'), `unexpected notice: ${text}`);
    check(!text.includes(reason), 'the notice shows the reason');

    // 4. The district administrator closes the review.
    await switchUser(page, 'district.admin');
    await page.getByTestId('nav-emergencyReviews').click();
    const review = page.getByTestId('review-table').locator('tbody tr').filter({ hasText: reason });
    await review.getByTestId('review-close').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.getByText('理由充分').click();
    await page.getByTestId('review-comment').fill('家长报警，确属紧急情况。');
    await page.getByTestId('review-submit').click();
    await review.waitFor({ state: 'detached' });
    await page.getByTestId('review-filter').getByText('全部').click();
    const closed = page.getByTestId('review-table').locator('tbody tr').filter({ hasText: reason });
    const verdict = (await closed.getByTestId('review-verdict').innerText()).trim();
    check(verdict === '理由充分', `unexpected verdict: ${verdict}`);
  }],
];
