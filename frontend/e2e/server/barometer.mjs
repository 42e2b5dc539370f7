// The peer liaison's weekly barometer (晴雨表) on a phone-sized screen: the liaison names a
// classmate; the counselor finds the concern in the intake queue; the homeroom teacher
// sees nothing of it.
import { check, loggedIn, stamp } from '../scenarios.mjs';

async function switchTo(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

export const scenarios = [
  ['liaison-barometer-names-student', async (page) => {
    await loggedIn(page, 'liaison.s1');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(new URL('/barometer', page.url()).toString());
    await page.getByTestId('barometer-submit').waitFor();
    await page.locator('label:has([data-testid="mood-2"])').click();
    await page.getByTestId('barometer-concerns').getByText('考试焦虑').click();
    await page.getByTestId('barometer-student').click();
    const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').first();
    const student = (await option.innerText()).trim();
    await option.click();
    const note = `最近总说睡不着 ${stamp}`;
    await page.getByTestId('barometer-note').fill(note);
    await page.getByTestId('barometer-submit').click();
    await page.getByTestId('barometer-filed').waitFor();
    await page.getByTestId('barometer-report').first().waitFor();
    await page.setViewportSize({ width: 1280, height: 800 });

    await switchTo(page, 'counselor.s1');
    await page.getByTestId('nav-intake').click();
    await page.getByText(note).first().waitFor();
    check((await page.getByText(student).count()) > 0, `the counselor does not see ${student}`);

    await switchTo(page, 'teacher.s1');
    await page.getByTestId('nav-concerns').click();
    await page.getByTestId('concerns-table').waitFor();
    await page.waitForLoadState('networkidle');
    check((await page.getByText(note).count()) === 0, 'the homeroom teacher sees the liaison\'s note');
  }],
];
