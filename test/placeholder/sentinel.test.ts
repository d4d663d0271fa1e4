import { describe, expect, it } from 'vitest';
import { knownPrefix, makeSentinel } from '../../src/placeholder/sentinel.js';

const shape = (s: string) => s.replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A').replace(/[0-9]/g, '9');

describe('sentinels', () => {
  const reals = [
    'sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdefghijkl0123456789',
    'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV012',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'AKIAIOSFODNN7EXAMPLE',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '3f2c9a1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f',
  ];
  it('keeps the vendor prefix, the length and each character class; differs from the value', () => {
    for (const real of reals) {
      const r = makeSentinel(real);
      if (!r.ok) throw new Error(r.why);
      const p = knownPrefix(real);
      expect(r.sentinel.startsWith(p)).toBe(true);
      expect(r.sentinel).toHaveLength(real.length);
      expect(shape(r.sentinel)).toBe(shape(real));
      expect(r.sentinel).not.toBe(real);
    }
    expect(knownPrefix(reals[0]!)).toBe('sk_live_');
    expect(knownPrefix(reals[3]!)).toBe('github_pat_');
    expect(knownPrefix(reals[5]!)).toBe('AKIA');
  });
  it('is new each time (per run, per secret)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = makeSentinel(reals[1]!);
      if (r.ok) seen.add(r.sentinel);
    }
    expect(seen.size).toBe(200);
  });
  it('refuses a value with too little to randomize', () => {
    expect(makeSentinel('sk_live_abc')).toMatchObject({ ok: false });
    expect(makeSentinel('hunter2')).toMatchObject({ ok: false });
  });
});
