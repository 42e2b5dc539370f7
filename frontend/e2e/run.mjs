// End-to-end tests: Debian's Chromium driven by playwright-core against a real server
// with demo data (scripts/e2e.sh starts one). Prints "N passed, M failed".
import { chromium } from 'playwright-core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const base = process.env.XINQIAO_BASE_URL || 'http://127.0.0.1:18080';
const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name) => path.join(here, 'fixtures', name);
const password = 'xinqiao-demo';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});

async function login(page, username, pw = password) {
  await page.goto(base + '/login');
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(pw);
  await page.getByTestId('login-submit').click();
}

const scenarios = [
  ['school leader imports a roster and sees row errors', async (page) => {
    await login(page, 'leader.s1');
    await page.getByTestId('nav-students').click();
    await page.getByText('学生名册').first().waitFor();
    await page.getByTestId('students-table').locator('tbody tr').first().waitFor();
    await page.getByTestId('import-open').click();
    await page.locator('input[type=file]').setInputFiles(fixture('roster_ok.csv'));
    await page.locator('#import-submit').click();
    await page.getByTestId('import-ok').waitFor();
    await page.locator('input[type=file]').setInputFiles(fixture('roster_bad.csv'));
    await page.locator('#import-submit').click();
    await page.getByTestId('import-failed').waitFor();
    const table = page.getByTestId('import-errors');
    await table.getByText('出生日期').waitFor();
    const row = await table.locator('tbody tr').first().locator('td').first().innerText();
    if (row.trim() !== '3') throw new Error(`error row is ${row}, want 3`);
  }],
  ['district admin manages schools, users and memberships, reads the audit log', async (page) => {
    await login(page, 'district.admin');
    await page.getByTestId('nav-schools').click();
    const rows = page.getByTestId('schools-table').locator('tbody tr');
    await rows.nth(2).waitFor();
    const code = 'e2e-' + Date.now().toString(36);
    await page.getByTestId('school-new').click();
    await page.getByTestId('school-name').fill('端到端测试学校');
    await page.getByTestId('school-code').fill(code);
    await page.getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('schools-table').getByText(code).waitFor();
    await page.getByTestId('nav-users').click();
    const username = 'e2e.' + Date.now().toString(36);
    await page.getByTestId('user-new').click();
    await page.getByTestId('new-username').fill(username);
    await page.getByTestId('new-display-name').fill('端到端用户');
    await page.getByTestId('new-password').fill('a-long-enough-password');
    await page.getByRole('button', { name: /OK|确\s*定/ }).click();
    await page.getByTestId('memberships-table').waitFor();
    await page.getByTestId('grant-role').click();
    await page.locator('.ant-select-item-option').filter({ hasText: '督导' }).click();
    await page.getByTestId('grant-submit').click();
    await page.getByTestId('memberships-table').getByText('督导').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('nav-audit').click();
    await page.getByTestId('audit-table').getByText('memberships.grant').first().waitFor();
  }],
  ['language switches to English', async (page) => {
    await login(page, 'counselor.s1');
    await page.getByTestId('nav-students').waitFor();
    await page.getByTestId('lang-switch').getByText('English').click();
    await page.getByTestId('nav-students').getByText('Student roster').waitFor();
    await page.getByTestId('lang-switch').getByText('中文').click();
    await page.getByTestId('nav-students').getByText('学生名册').waitFor();
  }],
  ['a wrong password shows a generic error', async (page) => {
    await login(page, 'counselor.s2', 'not-the-password');
    const text = await page.getByTestId('login-error').innerText();
    if (!text.includes('用户名或密码错误')) throw new Error(`unexpected message: ${text}`);
  }],
  ['logout returns to the login page and the session is gone', async (page) => {
    await login(page, 'teacher.s1');
    await page.getByTestId('nav-students').click();
    await page.getByTestId('students-table').locator('tbody tr').first().waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();
    const res = await page.request.get(base + '/api/v1/me');
    if (res.status() !== 401) throw new Error(`after logout /me answered ${res.status()}`);
  }],
];

let passed = 0;
let failed = 0;
for (const [name, run] of scenarios) {
  const context = await browser.newContext({ locale: 'zh-CN' });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  try {
    await run(page);
    passed++;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    const shot = `/tmp/xinqiao-e2e-${name.replace(/[^a-z0-9]+/gi, '-')}.png`;
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`not ok - ${name}\n  ${String(err?.message || err).split('\n').slice(0, 4).join('\n  ')}\n  screenshot: ${shot}`);
  } finally {
    await context.close();
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
