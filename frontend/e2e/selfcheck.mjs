// Checks the e2e scenarios themselves without the Go server: a small in-memory fake of the API
// contract (HttpOnly xq_session + readable xq_csrf cookies, X-CSRF-Token on every non-GET,
// problem+json, cursors, multipart roster upload) runs as a plain Node HTTP server, and
// `vite preview` serves the built UI and proxies /api to it (XINQIAO_API). The fake lives here
// only, never in the bundle. Usage: npm run build && node e2e/selfcheck.mjs
// Passing here does not replace run.mjs against the real server; it proves the selectors and
// the flow of the scenarios.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumOptions, runAll } from './scenarios.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const uiPort = Number(process.env.SELFCHECK_PORT || 4174);
const base = `http://127.0.0.1:${uiPort}`;
const now = () => new Date().toISOString();
const id = () => randomUUID();

// ---- the fake's data: the demo district -------------------------------------------------
const D = id();
const schools = [['示范区第一中学', 's1', 'k12'], ['示范区实验小学', 's2', 'k12'], ['示范区职业技术学校', 's3', 'vocational']]
  .map(([name, code, kind]) => ({ id: id(), district_id: D, name, code, kind, created_at: now() }));
const units = [];
for (const [i, g] of ['七年级', '八年级', '九年级'].entries()) {
  const gid = id();
  units.push({ id: gid, school_id: schools[0].id, parent_id: null, kind: 'grade', name: g, position: i });
  for (const n of [1, 2]) units.push({ id: id(), school_id: schools[0].id, parent_id: gid, kind: 'homeroom', name: `${g[0]}(${n})班`, position: n });
}
const h71 = units.find((u) => u.name === '七(1)班');
const student = (number, name) => ({
  id: id(), school_id: schools[0].id, student_number: number, name, gender: 'male', birth_date: '2012-03-05',
  grade_id: h71.parent_id, grade_name: '七年级', homeroom_id: h71.id, homeroom_name: '七(1)班', status: 'enrolled', guardians: [],
});
const students = Array.from({ length: 8 }, (_, i) => student(`2025000${i}`, `学生${i}`));
const users = [];
const memberships = [];
function addUser(username, display_name, role, school) {
  const u = { id: id(), username, display_name, district_id: D, disabled: false, created_at: now() };
  users.push(u);
  if (role) {
    const s = school ? schools[school - 1] : null;
    memberships.push({ id: id(), user_id: u.id, username, display_name, scope_type: s ? 'school' : 'district', district_id: D,
      school_id: s?.id ?? null, school_name: s?.name ?? null, role, homeroom_id: null, created_at: now() });
  }
  return u;
}
addUser('district.admin', '区管理员', 'district_admin');
addUser('district.supervisor', '督导', 'district_supervisor');
addUser('researcher', '研究人员', 'researcher');
for (const n of [1, 2, 3]) {
  addUser(`counselor.s${n}`, `辅导老师${n}`, 'counselor', n);
  addUser(`leader.s${n}`, `校长${n}`, 'school_leader', n);
  addUser(`teacher.s${n}`, `班主任${n}`, 'homeroom_teacher', n);
  addUser(`liaison.s${n}`, `心理委员${n}`, 'peer_liaison', n);
}
const audit = [];
const record = (actor, action, objectType, objectId = '') =>
  audit.unshift({ id: id(), seq: audit.length + 1, occurred_at: now(), actor_id: actor.id, actor_username: actor.username, role: '',
    scope: `district:${D}`, action, object_type: objectType, object_id: objectId, outcome: 'allowed', request_id: id(), client_ip: '127.0.0.1', reason: '' });
const sessions = new Map(); // token -> { user, csrf }

// ---- the fake's HTTP handler -------------------------------------------------------------
async function handle(req, res) {
  const url = new URL(req.url, 'http://fake');
  const p = url.pathname;
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  const body = () => JSON.parse(raw.toString('utf8') || '{}');
  const reply = (status, value, headers = {}) => {
    res.writeHead(status, { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
    res.end(value === undefined ? '' : JSON.stringify(value));
  };
  const problem = (status, title, extra = {}) => reply(status, { type: 'about:blank', title, status, request_id: id(), ...extra });
  // A search POSTs its terms, limit and cursor in the body (…/search); a GET list reads them
  // from the address and, like the real API, refuses a search term there.
  const searching = req.method === 'POST' && p.endsWith('/search');
  const params = searching ? body() : Object.fromEntries(url.searchParams);
  const list = (items) => {
    const limit = Math.min(Number(params.limit || 50), 200);
    const from = Number(params.cursor || 0);
    reply(200, { items: items.slice(from, from + limit), next_cursor: from + limit < items.length ? String(from + limit) : null });
  };
  const cookies = Object.fromEntries((req.headers.cookie || '').split(';').map((c) => c.trim().split('=')).filter((kv) => kv.length === 2));

  if (p === '/api/v1/auth/login' && req.method === 'POST') {
    const { username, password } = body();
    const user = users.find((u) => u.username === username);
    if (!user || password !== 'xinqiao-demo') return problem(401, 'Invalid username or password');
    const token = id();
    const csrf = id();
    sessions.set(token, { user, csrf });
    record(user, 'auth.login', 'user', user.id);
    return reply(200, { token, expires_at: now(), user }, {
      'Set-Cookie': [`xq_session=${token}; Path=/; HttpOnly; SameSite=Strict`, `xq_csrf=${csrf}; Path=/; SameSite=Strict`],
    });
  }
  const session = sessions.get(cookies.xq_session);
  if (!session) return problem(401, 'Unauthorized');
  if (req.method !== 'GET' && req.headers['x-csrf-token'] !== session.csrf) return problem(403, 'missing or wrong CSRF token');
  const me = session.user;
  if (req.method === 'GET' && url.searchParams.has('q')) return problem(400, 'search terms are not sent in the address');
  if (p === '/api/v1/auth/logout') {
    sessions.delete(cookies.xq_session);
    res.writeHead(204);
    return res.end();
  }
  if (p === '/api/v1/me') return reply(200, { user: me, memberships: memberships.filter((m) => m.user_id === me.id) });
  if (/^\/api\/v1\/districts\/[^/]+\/schools$/.test(p)) {
    if (req.method !== 'POST') return list(schools);
    const b = body();
    if (schools.some((s) => s.code === b.code)) return problem(409, 'Conflict', { errors: [{ field: 'code', code: 'duplicate', message: 'taken' }] });
    const s = { id: id(), district_id: D, ...b, created_at: now() };
    schools.push(s);
    record(me, 'schools.create', 'school', s.id);
    return reply(201, s);
  }
  if (/^\/api\/v1\/districts\/[^/]+\/users(\/search)?$/.test(p)) {
    if (req.method !== 'POST' || searching) {
      const q = params.q || '';
      return list(users.filter((u) => u.username.includes(q) || u.display_name.includes(q)));
    }
    const b = body();
    if (b.password.length < 12) return problem(422, 'Validation failed', { errors: [{ field: 'password', code: 'too_short', message: 'at least 12' }] });
    const u = addUser(b.username, b.display_name);
    record(me, 'users.create', 'user', u.id);
    return reply(201, u);
  }
  if (/^\/api\/v1\/districts\/[^/]+\/memberships$/.test(p)) {
    if (req.method !== 'POST') return list(memberships.filter((x) => x.user_id === url.searchParams.get('user_id')));
    const b = body();
    const u = users.find((x) => x.id === b.user_id);
    const s = schools.find((x) => x.id === b.school_id);
    const m = { id: id(), username: u.username, display_name: u.display_name, district_id: D, school_name: s?.name ?? null, created_at: now(), ...b };
    memberships.push(m);
    record(me, 'memberships.grant', 'membership', m.id);
    return reply(201, m);
  }
  if (p.endsWith('/audit')) return list(audit);
  if (p.endsWith('/org-units')) return list(units.filter((u) => p.includes(u.school_id)));
  if (p.endsWith('/staff')) return list(memberships.filter((x) => x.school_id && p.includes(x.school_id)));
  if (p.endsWith('/students/import')) {
    const text = raw.toString('utf8');
    if (!/filename="[^"]+\.(csv|xlsx)"/.test(text)) return problem(415, 'Unsupported Media Type');
    if (!text.includes('学号,姓名,性别,出生日期,年级,班级')) return problem(422, 'Validation failed', { errors: [{ row: 1, code: 'empty_file', message: 'the file is empty' }] });
    if (text.includes('2012-13-45'))
      return problem(422, 'Validation failed', { errors: [{ row: 3, column: '出生日期', code: 'invalid_format', message: 'write the date as 2012-03-05' }] });
    const fresh = [['E2E001', '端到端甲'], ['E2E002', '端到端乙']].filter(([n]) => !students.some((s) => s.student_number === n));
    students.push(...fresh.map(([n, name]) => student(n, name)));
    record(me, 'students.import', 'student');
    return reply(200, { total: 2, created: fresh.length, updated: 2 - fresh.length });
  }
  if (p.endsWith('/students') || (searching && p.endsWith('/students/search'))) {
    const q = params.q || '';
    return list(students.filter((s) => s.student_number.startsWith(q) || s.name.includes(q)));
  }
  return problem(404, 'Not Found');
}

// ---- run ---------------------------------------------------------------------------------
const api = http.createServer((req, res) => handle(req, res).catch((e) => {
  res.writeHead(500, { 'Content-Type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title: String(e), status: 500 }));
}));
await new Promise((r) => api.listen(0, '127.0.0.1', r));
const apiUrl = `http://127.0.0.1:${api.address().port}`;
const preview = spawn(path.join(root, 'node_modules/.bin/vite'), ['preview', '--port', String(uiPort), '--strictPort', '--host', '127.0.0.1'], {
  cwd: root, stdio: 'ignore', env: { ...process.env, XINQIAO_API: apiUrl },
});
let failed = 1;
try {
  let up = false;
  for (let i = 0; i < 75 && !up; i++) {
    up = await fetch(base + '/login').then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) throw new Error(`vite preview did not start on ${base}`);
  const browser = await chromium.launch(chromiumOptions);
  failed = await runAll(browser, base);
  await browser.close();
} finally {
  preview.kill('SIGTERM');
  api.close();
}
process.exit(failed > 0 ? 1 : 0);
