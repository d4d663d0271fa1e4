import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashRecord, newAuditId } from '../../src/audit/index.js';

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).reverse().map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]));
}

describe('canonicalJson', () => {
  it('sorts keys recursively and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'x' }], c: true } })).toBe(
      '{"a":{"c":true,"d":[3,{"y":"x","z":null}]},"b":1}',
    );
  });

  it('follows JSON.stringify for undefined, non-finite numbers and toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, Number.NaN], c: new Date(0) })).toBe(
      '{"b":[null,null],"c":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it('is independent of key order and survives a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const c = canonicalJson(value);
        expect(canonicalJson(reverseKeys(value))).toBe(c);
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(c);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('hashRecord ignores the hash field and changes with any other field', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (rec, key) => {
        const base = hashRecord({ ...rec });
        expect(hashRecord({ ...rec, hash: 'anything' })).toBe(base);
        if (key !== 'hash') {
          const changed = { ...rec, [key]: { changed: rec[key] ?? null } };
          expect(hashRecord(changed)).not.toBe(base);
        }
      }),
    );
  });

  it('rejects circular values', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(/circular/);
  });
});

describe('newAuditId', () => {
  it('has a fixed shape, sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, () => newAuditId());
    for (const id of ids) expect(id).toMatch(/^ol_[0-9a-z]{9}[0-9a-hjkmnp-tv-z]{10}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const early = newAuditId(Date.parse('2025-01-01T00:00:00Z'));
    const late = newAuditId(Date.parse('2025-01-01T00:00:00.001Z'));
    expect(early < late).toBe(true);
    expect(newAuditId(Date.parse('2099-12-31T00:00:00Z')) > late).toBe(true);
  });
});
