import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import i18n from '../i18n';
import {
  completionRate, countValue, definitionFieldErrors, gradeList, gradeOrder, isSuppressed, missingFromProblem, missingItems,
  newDefinition, parseDefinition, pick, sheetOf, studentUrl, trendSeries, type SheetInstrument,
} from '../api/screening';
import { bandDistribution } from '../pages/Campaigns';
import { itemIndexesWithErrors } from '../pages/Instruments';
import { campaignSheets, formatCode } from '../pages/SchoolCampaigns';
import { sortAlerts } from '../pages/ScreeningAlerts';
import { codeState, normalizeCode } from '../pages/StudentScreening';
import { isPublicPath } from '../App';
import { canWriteScreening } from '../nav';
import type { Alert, Campaign, Definition } from '../api/screening';

const phq: SheetInstrument = {
  id: 'i1', code: 'phq9', name: { zh: 'PHQ-9', en: 'PHQ-9' }, stem: { zh: '', en: '' },
  items: ['1', '2', '3'].map((code) => ({ code, text: { zh: code, en: code }, options: [{ value: 0, label: { zh: '否', en: 'No' } }] })),
};

describe('suppressed counts', () => {
  it.each([
    ['<5', true, 0],
    [' <5', true, 0],
    ['0', false, 0],
    ['5', false, 5],
    ['120', false, 120],
    [7, false, 7],
    [null, false, 0],
  ] as const)('%j is suppressed=%s and charts as %d', (c, suppressed, value) => {
    expect(isSuppressed(c)).toBe(suppressed);
    expect(countValue(c)).toBe(value);
  });

  it('gives no completion rate when a count is suppressed or nobody is eligible', () => {
    expect(completionRate('60', '120')).toBe(50);
    expect(completionRate('<5', '120')).toBeNull();
    expect(completionRate('6', '<5')).toBeNull();
    expect(completionRate('0', '0')).toBeNull();
    expect(completionRate(3, 9)).toBe(33);
  });

  it('orders the band distribution in the instrument band order and keeps counts as strings', () => {
    const d = bandDistribution(
      { schools: [], bands: [{ instrument_code: 'phq9', band: 'severe', count: '<5' }, { instrument_code: 'phq9', band: 'minimal', count: '80' }, { instrument_code: 'gad7', band: 'mild', count: '12' }] },
      (c) => (c === 'phq9' ? ['minimal', 'mild', 'severe'] : []),
    );
    expect(d).toEqual([
      { code: 'phq9', bands: [{ band: 'minimal', count: '80' }, { band: 'severe', count: '<5' }] },
      { code: 'gad7', bands: [{ band: 'mild', count: '12' }] },
    ]);
  });
});

describe('answer completeness', () => {
  it('names every unanswered item by instrument and item, in order', () => {
    expect(missingItems([phq], {})).toEqual(['i1.1', 'i1.2', 'i1.3']);
    expect(missingItems([phq], { i1: { '1': 0, '3': 0 } })).toEqual(['i1.2']);
    expect(missingItems([phq], { i1: { '1': 0, '2': 0, '3': 0 } })).toEqual([]);
  });

  it('counts 0 as an answer', () => {
    expect(missingItems([phq], { i1: { '1': 0, '2': 0, '3': 0 } })).toHaveLength(0);
  });

  it('reads the missing items of a 422 from the public page and from paper entry', () => {
    const pub = new ApiError(422, { errors: [{ field: 'answers.i1.9', code: 'required', message: '' }, { field: 'title', code: 'x', message: '' }] });
    expect(missingFromProblem(pub)).toEqual(['i1.9']);
    const paper = new ApiError(422, { errors: [{ field: 'answers.9', code: 'required', message: '' }] });
    expect(missingFromProblem(paper, 'i1')).toEqual(['i1.9']);
    expect(missingFromProblem(new ApiError(409, {}))).toEqual([]);
  });

  it('gives items without options the instrument options', () => {
    const d = newDefinition();
    const s = sheetOf(d, 'x');
    expect(s.id).toBe('x');
    expect(s.items[0].options).toEqual(d.options);
  });

  it('matches campaign definitions to the instrument versions the campaign uses', () => {
    const def = { ...newDefinition(), code: 'phq9' } as Definition;
    const c = { instruments: [{ id: 'v2', code: 'phq9', version: 2, name: def.name }], instrument_definitions: [def] } as unknown as Campaign;
    expect(campaignSheets(c).map((s) => s.id)).toEqual(['v2']);
  });
});

describe('trend shaping', () => {
  it('keeps one series per instrument with points in time order and reliable changes marked', () => {
    const s = trendSeries([
      { instrument_code: 'phq9', points: [
        { at: '2026-12-01T08:00:00Z', total: 18, band: 'moderately_severe', rci: 2.3, reliable_change: 'worsened' },
        { at: '2026-03-01T08:00:00Z', total: 6, band: 'mild' },
        { at: '2026-06-01T08:00:00Z', total: 7, band: 'mild', rci: 0.2, reliable_change: 'none' },
      ] },
      { instrument_code: 'gad7', points: [] },
    ]);
    expect(s).toHaveLength(1);
    expect(s[0].points.map((p) => p.total)).toEqual([6, 7, 18]);
    expect(s[0].points.map((p) => p.change)).toEqual([undefined, undefined, 'worsened']);
  });
});

describe('instrument editor helpers', () => {
  it('maps definition error paths and finds the items they name', () => {
    const e = new ApiError(422, { errors: [
      { field: 'definition.items[3].options', code: 'required', message: 'x' },
      { field: 'definition.bands[0].min', code: 'invalid_value', message: 'y' },
      { field: 'items[1].text.zh', code: 'required', message: 'z' },
    ] });
    const f = definitionFieldErrors(e);
    expect(f.map((x) => x.field)).toEqual(['items[3].options', 'bands[0].min', 'items[1].text.zh']);
    expect([...itemIndexesWithErrors(f)].sort()).toEqual([1, 3]);
  });

  it('parses the JSON editor text or says why not', () => {
    expect(parseDefinition('{"code":"x"}').definition?.code).toBe('x');
    expect(parseDefinition('{"code":').error).toBeTruthy();
    expect(parseDefinition('[1]').error).toBeTruthy();
  });

  it('picks the text of the language, falling back to Chinese', () => {
    expect(pick({ zh: '中', en: 'en' }, 'en')).toBe('en');
    expect(pick({ zh: '中', en: '' }, 'en')).toBe('中');
    expect(pick({ zh: '中', en: 'en' }, 'zh-CN')).toBe('中');
    expect(pick(undefined, 'en')).toBe('');
  });
});

describe('codes and the student page', () => {
  it('prints codes in groups of four and reads them back from the URL', () => {
    expect(formatCode('ABCDEFGHJK')).toBe('ABCD-EFGH-JK');
    expect(formatCode('ABCD-EFGH-JK')).toBe('ABCD-EFGH-JK');
    expect(normalizeCode('abcd-efgh-jk')).toBe('ABCDEFGHJK');
  });

  it('prints absolute addresses on the slips', () => {
    expect(studentUrl('/s/ABCDEFGHJK', 'https://xq.example.cn/')).toBe('https://xq.example.cn/s/ABCDEFGHJK');
    expect(studentUrl('https://x.cn/s/A', 'https://y.cn')).toBe('https://x.cn/s/A');
  });

  it.each([[404, 'unknown'], [409, 'used'], [410, 'expired'], [429, 'limited'], [500, 'error']] as const)('answers %d as %s', (status, state) => {
    expect(codeState(new ApiError(status, {}))).toBe(state);
  });

  it('treats /s/* as public and everything else as behind the login', () => {
    expect(isPublicPath('/s/ABCD')).toBe(true);
    expect(isPublicPath('/request/school-1')).toBe(true);
    expect(isPublicPath('/students')).toBe(false);
    expect(isPublicPath('/screening')).toBe(false);
  });

  it('lets counselors run campaigns and school leaders only watch', () => {
    expect(canWriteScreening('counselor')).toBe(true);
    expect(canWriteScreening('school_leader')).toBe(false);
  });
});

describe('alert queue order', () => {
  const a = (id: string, due: string, overdue: boolean, ack?: string) => ({ id, due_at: due, overdue, acknowledged_at: ack ?? null }) as Alert;
  it('puts overdue alerts first, then open ones by deadline, then acknowledged ones', () => {
    const sorted = sortAlerts([
      a('ack', '2026-01-01T00:00:00Z', true, '2026-01-01T01:00:00Z'),
      a('late', '2026-01-02T00:00:00Z', true),
      a('soon', '2026-01-03T00:00:00Z', false),
      a('sooner', '2026-01-02T12:00:00Z', false),
    ]);
    expect(sorted.map((x) => x.id)).toEqual(['late', 'sooner', 'soon', 'ack']);
  });

  it('lists target grades by name, "all grades" when the campaign names none', () => {
    expect(gradeList(['七年级', '八年级'], '、', '全部年级')).toBe('七年级、八年级');
    expect(gradeList([], '、', i18n.t('screening.campaign.allGrades'))).toBe('全部年级');
  });

  it('orders progress columns by the campaign grades, others after', () => {
    expect(gradeOrder(['八年级', '七年级'], ['七年级', '九年级', '八年级'])).toEqual(['八年级', '七年级', '九年级']);
    expect(gradeOrder([], ['b', 'a'])).toEqual(['a', 'b']);
  });
});
