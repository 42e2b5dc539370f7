import { describe, expect, it } from 'vitest';
import zh from '../locales/zh-CN.json';
import en from '../locales/en.json';

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, prefix + k + '.') : [prefix + k]));
}

describe('locale files', () => {
  it('have the same keys in zh-CN and en', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
  });
  it('have no empty strings', () => {
    for (const [name, file] of [['zh-CN', zh], ['en', en]] as const) {
      const empty = keys(file).filter((k) => k.split('.').reduce<any>((o, p) => o[p], file) === '');
      expect(empty, name).toEqual([]);
    }
  });
  it('translate every import error code the server sends', () => {
    const codes = ['required', 'too_long', 'invalid_format', 'invalid_value', 'out_of_range', 'duplicate', 'missing_column',
      'unknown_column', 'empty_file', 'too_many_rows', 'unknown_homeroom'];
    for (const c of codes) {
      expect(zh.importError.code).toHaveProperty(c);
      expect(en.importError.code).toHaveProperty(c);
    }
  });
});
