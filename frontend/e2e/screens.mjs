// Development aid, not a test: screenshots of the main screens with a mocked API, for looking
// at the UI without the Go server. The mocks live here (Playwright request routing), never in
// the production bundle. Usage: npx vite preview --port 4173 & node e2e/screens.mjs
// Writes /tmp/xinqiao-screens/*.png (XINQIAO_BASE_URL, CHROMIUM_PATH, SCREENS_DIR override).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = (process.env.XINQIAO_BASE_URL || 'http://127.0.0.1:4173').replace(/\/$/, '');
const out = process.env.SCREENS_DIR || '/tmp/xinqiao-screens';
mkdirSync(out, { recursive: true });

const D = 'd0000000-0000-4000-8000-000000000001';
const S = ['s0000000-0000-4000-8000-000000000001', 's0000000-0000-4000-8000-000000000002', 's0000000-0000-4000-8000-000000000003'];
const schools = [
  { id: S[0], district_id: D, name: '示范区第一中学', code: 's1', kind: 'k12', created_at: '2025-02-01T08:00:00Z' },
  { id: S[1], district_id: D, name: '示范区实验小学', code: 's2', kind: 'k12', created_at: '2025-02-01T08:00:00Z' },
  { id: S[2], district_id: D, name: '示范区职业技术学校', code: 's3', kind: 'vocational', created_at: '2025-02-01T08:00:00Z' },
];
const grades = ['七年级', '八年级', '九年级'];
const units = grades.flatMap((g, i) => [
  { id: `g${i}`, school_id: S[0], parent_id: null, kind: 'grade', name: g, position: i },
  { id: `h${i}1`, school_id: S[0], parent_id: `g${i}`, kind: 'homeroom', name: `${g[0]}(1)班`, position: 0 },
  { id: `h${i}2`, school_id: S[0], parent_id: `g${i}`, kind: 'homeroom', name: `${g[0]}(2)班`, position: 1 },
]);
const surnames = '王李张刘陈杨赵黄周吴';
const given = ['子涵', '欣怡', '浩然', '梓萱', '宇轩', '思远', '雨桐', '一诺'];
const students = Array.from({ length: 56 }, (_, n) => {
  const gi = n % 3;
  const hi = (n >> 1) % 2;
  return {
    id: `st${n}`, school_id: S[0], student_number: `2025${String(n + 1).padStart(4, '0')}`,
    name: surnames[n % 10] + given[n % 8], gender: n % 2 ? 'female' : 'male', birth_date: `${2012 - gi}-0${(n % 9) + 1}-1${n % 9}`,
    grade_id: `g${gi}`, grade_name: grades[gi], homeroom_id: `h${gi}${hi + 1}`, homeroom_name: `${grades[gi][0]}(${hi + 1})班`,
    status: n % 17 === 0 ? 'transferred' : 'enrolled', guardians: [{ name: surnames[n % 10] + '先生', relation: '父亲', phone: '138****0000' }],
  };
});
const membership = (id, role, school) => ({
  id, scope_type: school === null ? 'district' : 'school', district_id: D, district_name: '示范区',
  school_id: school === null ? null : S[school], school_name: school === null ? null : schools[school].name, role, homeroom_id: null,
});
const people = {
  leader: { user: { id: 'u-leader', username: 'leader.s1', display_name: '周校长', district_id: D }, memberships: [membership('m1', 'school_leader', 0), membership('m1b', 'counselor', 0)] },
  admin: { user: { id: 'u-admin', username: 'district.admin', display_name: '区管理员', district_id: D }, memberships: [membership('m2', 'district_admin', null)] },
  supervisor: { user: { id: 'u-sup', username: 'district.supervisor', display_name: '林督导', district_id: D }, memberships: [membership('m3', 'district_supervisor', null)] },
};
const users = [
  ['district.admin', '区管理员'], ['district.supervisor', '林督导'], ['researcher', '研究员小陈'], ['leader.s1', '周校长'],
  ['counselor.s1', '李老师'], ['teacher.s1', '王老师'], ['liaison.s1', '赵同学'],
].map(([username, display_name], i) => ({ id: `u${i}`, username, display_name, district_id: D, disabled: false, created_at: '2025-02-01T08:00:00Z' }));
const actions = ['auth.login', 'students.list', 'schools.create', 'memberships.grant', 'users.create', 'audit.list', 'students.import'];
const audit = Array.from({ length: 80 }, (_, i) => ({
  id: `a${i}`, seq: 500 - i, occurred_at: new Date(Date.now() - i * 3.3 * 3600_000).toISOString(), actor_id: `u${i % 7}`,
  actor_username: users[i % 7].username, role: i % 7 === 0 ? 'district_admin' : 'school_leader', scope: `district:${D}`,
  action: actions[i % actions.length], object_type: actions[i % actions.length].split('.')[0].replace(/s$/, ''),
  object_id: i % 3 ? `0f1e2d3c-${i}` : '', outcome: i % 11 === 0 ? 'denied' : 'allowed', request_id: `req-${i}`,
  client_ip: '10.0.0.' + (i % 20), reason: i % 11 === 0 ? 'no permission' : '',
}));

function mockApi(who) {
  return async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const p = url.pathname;
    const json = (status, body, headers = {}) =>
      route.fulfill({ status, contentType: status >= 400 ? 'application/problem+json' : 'application/json', body: JSON.stringify(body), headers });
    const page = (items) => {
      const limit = Number(url.searchParams.get('limit') || 50);
      const from = Number(url.searchParams.get('cursor') || 0);
      return json(200, { items: items.slice(from, from + limit), next_cursor: from + limit < items.length ? String(from + limit) : null });
    };
    if (p === '/api/v1/auth/login' && who) return json(200, { token: 't', expires_at: '2030-01-01T00:00:00Z', user: people[who].user }, { 'Set-Cookie': 'xq_csrf=mock; Path=/' });
    if (p === '/api/v1/auth/logout') return route.fulfill({ status: 204 });
    if (p === '/api/v1/me') return who ? json(200, people[who]) : json(401, { type: 'urn:xinqiao:problem:unauthenticated', title: 'Unauthorized', status: 401 });
    if (p.endsWith('/org-units')) return json(200, { items: p.includes(S[0]) ? units : [], next_cursor: null });
    if (p.endsWith('/students/import'))
      return json(422, {
        type: 'urn:xinqiao:problem:validation', title: 'Validation failed', status: 422, request_id: 'req-import',
        errors: [
          { row: 3, column: '出生日期', code: 'invalid_format', message: 'write the date as 2012-03-05' },
          { row: 7, column: '班级', code: 'unknown_homeroom', message: 'no homeroom named "七(9)班" in that grade' },
          { row: 9, column: '学号', code: 'duplicate', message: 'student number 20250001 already appears in row 4' },
        ],
      });
    if (p.endsWith('/students')) return page(students);
    if (p.endsWith('/schools')) return page(schools);
    if (p.endsWith('/users')) return page(users);
    if (p.endsWith('/memberships'))
      return json(200, { items: [{ ...membership('mm1', 'counselor', 0), user_id: 'u4', username: 'counselor.s1', display_name: '李老师', created_at: '2025-02-01T08:00:00Z' }], next_cursor: null });
    if (p.endsWith('/staff')) return page([]);
    if (p.endsWith('/audit')) return page(audit);
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
async function session(who, lang = 'zh-CN') {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
  context.setDefaultTimeout(15_000);
  await context.addInitScript((l) => localStorage.setItem('xq_lang', l), lang);
  await context.route('**/api/v1/**', mockApi(who));
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  return { context, page };
}
const shot = async (page, name) => {
  await page.waitForTimeout(600); // let charts and transitions settle
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png`);
};

{
  const { context, page } = await session(null);
  await page.goto(base + '/login');
  await page.getByTestId('login-submit').waitFor();
  await shot(page, '01-login');
  await context.close();
}
{
  const { context, page } = await session('leader');
  await page.goto(base + '/');
  await page.getByTestId('home-chart').locator('canvas').waitFor();
  await shot(page, '02-home-leader');
  await page.getByTestId('nav-students').click();
  await page.getByTestId('students-table').locator('tbody tr.ant-table-row').first().waitFor();
  await shot(page, '03-students');
  await page.getByTestId('import-open').click();
  await page.locator('.ant-modal input[type=file]').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from('学号\n') });
  await page.getByTestId('import-submit').click();
  await page.getByTestId('import-errors').waitFor();
  await shot(page, '04-import-errors');
  await page.getByTestId('import-close').click();
  await page.getByTestId('nav-orgUnits').click();
  await page.getByTestId('org-tree').getByText('七年级').waitFor();
  await shot(page, '05-org-units');
  await context.close();
}
{
  const { context, page } = await session('admin');
  await page.goto(base + '/schools');
  await page.getByTestId('school-org').getByText('七年级').waitFor();
  await shot(page, '06-admin-schools');
  await page.getByTestId('nav-users').click();
  await page.getByTestId('memberships-counselor.s1').click();
  await page.getByTestId('memberships-table').getByText('心理辅导教师').waitFor();
  await page.getByTestId('grant-role').click();
  await shot(page, '07-admin-memberships');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-table').locator('tbody tr.ant-table-row').first().waitFor();
  await shot(page, '08-audit');
  await page.getByTestId('nav-home').click();
  await page.getByTestId('home-chart').locator('canvas').waitFor();
  await shot(page, '09-home-admin');
  await context.close();
}
{
  const { context, page } = await session('supervisor', 'en');
  await page.goto(base + '/');
  await page.getByTestId('home-chart').locator('canvas').waitFor();
  await shot(page, '10-home-supervisor-en');
  await context.close();
}
await browser.close();
