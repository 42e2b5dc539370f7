import { describe, expect, it } from 'vitest';
import { zhCN as zh, en } from '../locales';

type Tree = { [k: string]: string | Tree };

function keys(o: Tree, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, prefix + k + '.') : [prefix + k]));
}
function lookup(o: Tree, key: string): unknown {
  return key.split('.').reduce<unknown>((n, p) => (n && typeof n === 'object' ? (n as Tree)[p] : undefined), o);
}
const sources = import.meta.glob(['../**/*.{ts,tsx}', '!../test/**'], { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const locales = [['zh-CN', zh], ['en', en]] as const;

describe('locale files', () => {
  it('have the same keys in zh-CN and en', () => {
    const z = keys(zh).sort();
    const e = keys(en).sort();
    expect(z.filter((k) => !e.includes(k)), 'missing in en.json').toEqual([]);
    expect(e.filter((k) => !z.includes(k)), 'missing in zh-CN.json').toEqual([]);
  });

  it('have no empty strings and the same interpolation variables', () => {
    for (const k of keys(zh)) {
      expect(lookup(zh, k), k).not.toBe('');
      const vars = (s: unknown) => [...String(s).matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
      expect(vars(lookup(en, k)), k).toEqual(vars(lookup(zh, k)));
    }
  });

  it('contain every static key the source code uses', () => {
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.-]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/return '((?:login|problem)\.[a-zA-Z0-9_]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    for (const [name, file] of locales) {
      const missing = [...used].filter((k) => typeof lookup(file, k) !== 'string');
      expect(missing, name).toEqual([]);
    }
  });

  it('translate every value of the dynamic key families', () => {
    const roles = ['district_admin', 'district_supervisor', 'researcher', 'school_leader', 'counselor', 'homeroom_teacher', 'peer_liaison'];
    const importCodes = ['required', 'too_long', 'invalid_format', 'invalid_value', 'out_of_range', 'duplicate', 'missing_column',
      'unknown_column', 'empty_file', 'too_many_rows', 'unknown_homeroom'];
    const dynamic = [
      ...roles.map((r) => `role.${r}`),
      ...importCodes.map((c) => `importError.code.${c}`),
      ...[400, 403, 404, 409, 413, 415, 422, 429, 500, 503].map((s) => `problem.${s}`),
      ...['home', 'schools', 'users', 'orgUnits', 'staff', 'students', 'audit', 'dashboard', 'jobs', 'research', 'overdueTasks', 'liaisons'].map((k) => `menu.${k}`),
      ...['allowed', 'denied', 'failed'].map((o) => `audit.outcomeValue.${o}`),
      ...['enrolled', 'graduated', 'transferred'].map((s) => `student.statusValue.${s}`),
      'student.male', 'student.female', 'school.kind.k12', 'school.kind.vocational', 'scope.district', 'scope.school',
      'org.grade', 'org.department', 'org.homeroom',
    ];
    for (const [name, file] of locales) {
      expect(dynamic.filter((k) => typeof lookup(file, k) !== 'string'), name).toEqual([]);
    }
  });

  it('keep Chinese out of the source code (every UI string lives in the locale files)', () => {
    const offenders = Object.entries(sources)
      .filter(([path]) => !path.includes('/locales/'))
      .filter(([, text]) => /[\u4e00-\u9fff]/.test(text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '')))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });
});
