import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { secondStepMessage } from '../components/SecondStep';
import zh from '../locales/zh-CN/security.json';
import en from '../locales/en/security.json';

describe('second login step', () => {
  it('says locked, expired or wrong code without telling more', () => {
    expect(secondStepMessage(new ApiError(429, {}), true)).toBe('login.locked');
    expect(secondStepMessage(new ApiError(401, {}), false)).toBe('login.mfaExpired');
    expect(secondStepMessage(new ApiError(401, {}), true)).toBe('login.mfaFailed');
    expect(secondStepMessage(new ApiError(422, {}), true)).toBe('login.mfaFailed');
    expect(secondStepMessage(new Error('network'), true)).toBe('login.unavailable');
  });
  it('has every security string in both languages', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v as object, `${p}${k}.`) : [`${p}${k}`]));
    expect(keys(en).sort()).toEqual(keys(zh).sort());
  });
});
