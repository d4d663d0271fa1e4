import { describe, expect, it } from 'vitest';
import { isoUtc } from '../../src/audit/record.js';

// Every record's ts: the same text toISOString gives, without the time zone load it costs.
describe('isoUtc', () => {
  it('is toISOString, for edges and for a spread of instants across 0000-9999', () => {
    const edges = [0, -1, 1, 951782400000 /* 2000-02-29 */, 253402300799999 /* 9999-12-31T23:59:59.999 */, -62167219200000 /* 0000-01-01 */, Date.UTC(2026, 11, 3, 9, 5, 7, 42)];
    let x = 12345;
    const spread = Array.from({ length: 2000 }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return -62167219200000 + Math.floor((x / 2 ** 31) * (253402300799999 + 62167219200000));
    });
    for (const ms of [...edges, ...spread]) expect(isoUtc(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('beyond 9999 and before 0000 it is still toISOString\'s own form; an invalid date throws as it does', () => {
    for (const ms of [253402300800000, -62167219200001, 8.64e15, -8.64e15]) expect(isoUtc(new Date(ms))).toBe(new Date(ms).toISOString());
    expect(() => isoUtc(new Date(NaN))).toThrow(RangeError);
  });
});
