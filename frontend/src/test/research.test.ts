import { describe, expect, it } from 'vitest';
import { downloadable, humanSize, selectableFields, yearOptions, type ResearchRequest } from '../pages/research/model';
import { en, zhCN, type Tree } from '../locales';

const request = (over: Partial<ResearchRequest>): ResearchRequest => ({
  id: 'r1', researcher_id: 'u1', purpose: 'p', years: [2025], fields: ['grade'], ethics_ref: 'E-1', k: 5, longitudinal: false,
  status: 'ready', decision_reason: null, decided_at: null, progress: 100, files: [{ name: 'data.csv', size: 10, sha256: 'x' }],
  rows_exported: 1, ready_at: null, expires_at: '2026-12-31T00:00:00Z', created_at: '2026-01-01T00:00:00Z', ...over,
});

describe('research export requests', () => {
  it('offers every codebook field but pid and year, which are always exported', () => {
    const cb = ['pid', 'year', 'grade', 'gender'].map((name) => ({ name, meaning: '', type: 'string', quasi_identifier: false }));
    expect(selectableFields(cb).map((f) => f.name)).toEqual(['grade', 'gender']);
  });

  it('offers the current year and the nine before it', () => {
    expect(yearOptions(new Date('2026-12-01T00:00:00Z'))).toEqual([2026, 2025, 2024, 2023, 2022, 2021, 2020, 2019, 2018, 2017]);
  });

  it.each([
    ['ready and within its period', request({}), true],
    ['ready but expired', request({ expires_at: '2026-11-30T00:00:00Z' }), false],
    ['still building', request({ status: 'running', files: null }), false],
    ['rejected', request({ status: 'rejected', files: null }), false],
    ['ready without files', request({ files: [] }), false],
  ])('lets files be downloaded only when %s → %s', (_, r, want) => {
    expect(downloadable(r, new Date('2026-12-01T00:00:00Z'))).toBe(want);
  });

  it('prints file sizes for people', () => {
    expect(humanSize(512)).toBe('512 B');
    expect(humanSize(2048)).toBe('2.0 KiB');
    expect(humanSize(3 * 1024 * 1024)).toBe('3.0 MiB');
  });

  it('names every codebook field and status in both languages', () => {
    const r = (t: Tree) => t.research as Tree;
    for (const lang of [zhCN, en]) {
      expect(Object.keys(r(lang).field as Tree).sort()).toEqual(['age_band', 'crises', 'gad7_band', 'gender', 'grade', 'has_case_file', 'max_risk_tier', 'phq9_band', 'referrals', 'school', 'sessions']);
      expect(Object.keys(r(lang).statuses as Tree).sort()).toEqual(['approved', 'failed', 'pending', 'ready', 'rejected', 'running']);
      expect((lang.menu as Tree).research).toBeTruthy();
    }
  });
});
