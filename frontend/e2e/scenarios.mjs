// The browser scenarios of the end-to-end tests, shared by run.mjs (real server) and
// selfcheck.mjs (the built UI with a fake API, to check the scenarios themselves).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const fixture = (name) => path.join(here, 'fixtures', name);
const password = 'xinqiao-demo';
export const stepTimeout = 15_000;
export const stamp = Date.now().toString(36);
let base = '';

export async function login(page, username, pw = password) {
  await page.goto(base + '/login');
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(pw);
  await page.getByTestId('login-submit').click();
}

export async function loggedIn(page, username) {
  await login(page, username);
  const nav = page.getByTestId('nav');
  const refused = page.getByTestId('login-error');
  await nav.or(refused).first().waitFor();
  if (await refused.isVisible()) throw new Error(`login as ${username} failed: ${await refused.innerText()}`);
}

// openCaseFile opens a case file in the counselor's catalogue: the first one listed once
// the list has loaded, or a new one for the first student when there is none.
export async function openCaseFile(page) {
  await page.getByTestId('nav-caseFiles').click();
  const table = page.getByTestId('case-files-table');
  await table.waitFor();
  await page.waitForLoadState('networkidle');
  await table.locator('.ant-spin-spinning').waitFor({ state: 'detached' });
  const rows = table.locator('tbody tr.ant-table-row');
  // The list may still be on its way: give it a moment before deciding it is empty (and
  // opening a file for a student who has one simply opens that file).
  await rows.first().waitFor({ timeout: 5000 }).catch(() => {});
  if ((await rows.count()) > 0) {
    await rows.first().click();
  } else {
    await page.getByTestId('case-open').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.locator('tbody tr.ant-table-row').first().waitFor();
    await modal.locator('tbody tr.ant-table-row').first().getByText('建立档案').click();
  }
  await page.getByTestId('case-file-tabs').waitFor();
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

// Pick an option of an antd Select by its visible text.
export async function choose(page, selectTestId, text) {
  await page.getByTestId(selectTestId).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: text }).first().click();
}

export const scenarios = [
  ['leader-roster-import', async (page) => {
    await loggedIn(page, 'leader.s1');
    await page.getByTestId('nav-students').getByText('学生名册').waitFor(); // zh-CN is the default language
    await page.getByTestId('nav-students').click();
    await page.getByTestId('students-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('import-template').waitFor();
    await page.getByTestId('import-open').click();
    await page.locator('.ant-modal input[type=file]').setInputFiles(fixture('roster_ok.csv'));
    await page.getByTestId('import-submit').click();
    const ok = await page.getByTestId('import-ok').innerText();
    check(/2/.test(ok), `unexpected success message: ${ok}`);
    await page.locator('.ant-modal input[type=file]').setInputFiles(fixture('roster_bad.csv'));
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-failed').waitFor();
    const rows = page.getByTestId('import-errors').locator('tbody tr.ant-table-row');
    await rows.first().waitFor();
    const cells = await rows.first().locator('td').allInnerTexts();
    check(cells[0].trim() === '3', `error row is ${cells[0]}, want 3 (the header is row 1)`);
    check(cells[1].trim() === '出生日期', `error column is ${cells[1]}, want 出生日期`);
    check(cells[2].includes('格式不正确') || cells[2].includes('超出范围') || cells[2].includes('取值无效'), `error text: ${cells[2]}`);
    check((await rows.count()) === 1, `want exactly one row error, got ${await rows.count()}`);
    // The good file's students are on the roster now.
    await page.getByTestId('import-close').click();
    await page.getByTestId('student-search').fill('E2E001'); // antd puts the test id on the <input>
    await page.getByTestId('student-search').press('Enter');
    await page.getByTestId('students-table').getByText('端到端甲').waitFor();
  }],
  ['admin-schools-users-audit', async (page) => {
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-schools').click();
    const rows = page.getByTestId('schools-table').locator('tbody tr.ant-table-row');
    await rows.nth(2).waitFor();
    check((await rows.count()) >= 3, 'fewer than 3 schools');
    await rows.filter({ hasText: '示范区第一中学' }).click();
    await page.getByTestId('school-org').getByText('七年级').first().waitFor(); // the org tree of the school
    const code = `e2e-${stamp}`;
    await page.getByTestId('school-new').click();
    await page.getByTestId('school-name').fill(`端到端测试学校 ${stamp}`);
    await page.getByTestId('school-code').fill(code);
    await page.getByTestId('school-ok').click();
    await page.getByTestId('schools-table').getByText(code).waitFor();

    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-table').locator('tbody tr.ant-table-row').first().waitFor();
    const username = `e2e.${stamp}`;
    await page.getByTestId('user-new').click();
    await page.getByTestId('new-username').fill(username);
    await page.getByTestId('new-display-name').fill('端到端用户');
    await page.getByTestId('new-password').fill('a-long-enough-password');
    await page.getByTestId('user-ok').click();
    await page.getByTestId('memberships-table').waitFor(); // the new user's memberships open by themselves
    await choose(page, 'grant-role', '督导');
    await page.getByTestId('grant-submit').click();
    await page.getByTestId('memberships-table').getByText('督导').waitFor();
    await page.keyboard.press('Escape');

    await page.getByTestId('nav-audit').click();
    const audit = page.getByTestId('audit-table');
    await audit.locator('tbody tr.ant-table-row').first().waitFor();
    await audit.getByText('memberships.grant').first().waitFor();
    await audit.getByText('schools.create').first().waitFor();
  }],
  ['language-english', async (page) => {
    await page.goto(base + '/login');
    await page.getByTestId('lang-switch').getByText('English').click();
    await page.getByTestId('login-submit').getByText('Sign in').waitFor();
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-students').getByText('Student roster').waitFor();
    await page.reload(); // the choice is kept in localStorage
    await page.getByTestId('nav-home').getByText('Home').waitFor();
    await page.getByTestId('lang-switch').getByText('中文').click();
    await page.getByTestId('nav-students').getByText('学生名册').waitFor();
  }],
  ['wrong-password', async (page) => {
    await login(page, 'counselor.s2', 'not-the-password');
    const text = (await page.getByTestId('login-error').innerText()).trim();
    check(text === '用户名或密码错误', `unexpected message: ${text}`);
    await login(page, 'nobody-by-this-name', 'not-the-password');
    const other = (await page.getByTestId('login-error').innerText()).trim();
    check(other === text, `an unknown user gets a different message: ${other}`);
  }],
  ['logout', async (page) => {
    await loggedIn(page, 'teacher.s1');
    await page.getByTestId('nav-students').click();
    await page.getByTestId('students-table').locator('tbody tr').first().waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();
    const status = await page.evaluate(() => fetch('/api/v1/me', { credentials: 'same-origin' }).then((r) => r.status));
    check(status === 401, `after logout /me answered ${status}`);
    await page.goto(base + '/students');
    await page.getByTestId('login-submit').waitFor();
  }],
];


// chromiumOptions: Debian's Chromium, headless, nothing reaching out to the network by itself.
// Scenarios that need the real server (the self-check's fake API has no case files).
export const serverScenarios = [
  ['counselor-case-file-session', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-caseFiles').click();
    await page.getByTestId('case-files-table').waitFor();
    await page.getByTestId('case-open').click();
    const modal = page.locator('.ant-modal:visible');
    await modal.locator('tbody tr').first().waitFor();
    await modal.locator('tbody tr').first().getByText('建立档案').click();
    await page.getByTestId('session-new').click();
    const summary = '端到端：学业压力，睡眠不好 ' + stamp;
    await page.getByLabel('摘要').fill(summary);
    await page.getByLabel('辅导笔记').fill('学生愿意下周再来。');
    await page.locator('.ant-modal:visible').getByRole('button', { name: /OK|确\s*定/ }).click();
    const item = page.getByTestId('session-item').filter({ hasText: summary });
    await item.waitFor();
    await item.getByRole('button', { name: '签名锁定' }).click();
    await item.getByText('已签名').waitFor();
    await page.locator('.ant-drawer:visible .ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').waitFor({ state: 'hidden' });
    await page.getByTestId('nav-warningList').click();
    await page.getByTestId('warning-table').waitFor();
  }],
];

export const chromiumOptions = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
  timeout: 30_000,
};

// runAll runs every scenario in a fresh browser context against baseUrl; prepare(context, base)
// may install request routes. Prints "ok - <name>" / "not ok - <name>" lines and the summary
// "N passed, M failed"; returns the number of failures.
export async function runAll(browser, baseUrl, prepare = async () => {}, extra = []) {
  base = baseUrl.replace(/\/$/, '');
  let passed = 0;
  let failed = 0;
  const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;
  for (const [name, run] of [...scenarios, ...extra]) {
    if (only && !only.test(name)) continue;
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
    context.setDefaultTimeout(stepTimeout);
    context.setDefaultNavigationTimeout(stepTimeout);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await prepare(context, base);
      await run(page);
      passed++;
      console.log(`ok - ${name}`);
    } catch (err) {
      failed++;
      const shot = `/tmp/xinqiao-e2e-${name}.png`;
      await page.screenshot({ path: shot, fullPage: true, timeout: stepTimeout }).catch(() => {});
      console.log(`not ok - ${name}`);
      console.log(`  ${String(err?.message || err).split('\n').slice(0, 6).join('\n  ')}`);
      console.log(`  at ${page.url()}; screenshot: ${shot}`);
      for (const e of pageErrors.slice(0, 3)) console.log(`  page error: ${e}`);
    } finally {
      await context.close().catch(() => {});
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
