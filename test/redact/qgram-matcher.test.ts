import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralMatcher, QgramMatcher, chooseMatcher, type Literal } from '../../src/redact/index.js';

const lit = (text: string, label = 'L'): Literal => ({ label, bytes: Buffer.from(text, 'latin1') });
const alphabet = fc.constantFrom('a', 'b', 'c', 'd', '\n');
const word = (min: number, max: number) => fc.array(alphabet, { minLength: min, maxLength: max }).map((a) => a.join(''));
const key = (o: { start: number; end: number; literal: number }) => `${o.start}:${o.end}:${o.literal}`;

describe('QgramMatcher', () => {
  it('finds exactly what the reference LiteralMatcher finds, and holds back the same tails', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(word(1, 12), { minLength: 1, maxLength: 30 }),
        fc.array(fc.oneof(word(0, 8), fc.nat(29)), { maxLength: 20 }),
        (texts, pieces) => {
          const lits = texts.map((t) => lit(t));
          const text = Buffer.from(pieces.map((p) => (typeof p === 'number' ? texts[p % texts.length] : p)).join(''), 'latin1');
          const q = new QgramMatcher(lits);
          const ref = new LiteralMatcher(lits);
          expect(q.findAll(text).map(key).sort()).toEqual(ref.findAll(text).map(key).sort());
          expect(q.pendingStart(text)).toBe(ref.pendingStart(text));
          expect(q.partials(text).map(key).sort()).toEqual(ref.partials(text).map(key).sort());
          expect(q.maxLength).toBe(ref.maxLength);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('finds every literal of a large set at a sampled stride, at the start, the end and overlapping', () => {
    const lits = Array.from({ length: 2000 }, (_, i) => lit(`secret-${i.toString(36)}-${'x'.repeat(i % 7)}-end`));
    const q = new QgramMatcher(lits);
    const text = Buffer.from(lits.map((l) => l.bytes.toString('latin1')).join(''), 'latin1');
    const found = new Set(q.findAll(text).map((o) => o.literal));
    expect(found.size).toBe(2000);
    expect(q.findAll(Buffer.from('no secrets here at all, just words and words')).length).toBe(0);
  });

  it('finds every occurrence after more sampled hits than the loop writes down in one round', () => {
    // The sampling loop records its bitset hits and stops when its room is full (2,048 of them); the
    // walk must resume where it stopped. Every sample of this text hits, so the last copies come late.
    const lits = Array.from({ length: 20 }, (_, i) => lit(`token-${String(i).padStart(2, '0')}-abcdefgh`));
    const q = new QgramMatcher(lits);
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => lits[i % 20]!.bytes.toString('latin1')).join(''), 'latin1');
    const found = q.findAll(text);
    expect(found).toHaveLength(3000);
    expect(Math.max(...found.map((o) => o.end))).toBe(text.length);
  });

  it('holds back every prefix of a large set sharing their first bytes, and nothing else (the 4-byte start filter)', () => {
    // 2,000 literals that share their first two bytes, so only the hashed 4-byte table turns tails away.
    const lits = Array.from({ length: 2000 }, (_, i) => lit(`se${(i * 7919).toString(36)}-${'y'.repeat(i % 5)}tail`));
    const q = new QgramMatcher(lits);
    const ref = new LiteralMatcher(lits);
    for (let i = 0; i < lits.length; i += 37) {
      const bytes = lits[i]!.bytes;
      for (let cut = 1; cut < bytes.length; cut += 3) {
        const text = Buffer.concat([Buffer.from('log line se0 sexx: '), bytes.subarray(0, cut)]);
        expect(q.pendingStart(text)).toBe(text.length - cut);
        expect(q.partials(text).map(key).sort()).toEqual(ref.partials(text).map(key).sort());
      }
    }
    expect(q.pendingStart(Buffer.from('nothing pending: sexy'))).toBe(ref.pendingStart(Buffer.from('nothing pending: sexy')));
  });

  it('still finds literals shorter than a gram', () => {
    const q = new QgramMatcher([lit('ab'), lit('abcdefgh'), lit('z')]);
    expect(q.findAll(Buffer.from('xabx z abcdefgh')).map(key).sort()).toEqual(['1:3:0', '5:6:2', '7:15:1', '7:9:0'].sort());
  });

  it('is chosen past a handful of literals', () => {
    expect(chooseMatcher([lit('abcdef')])).toBeInstanceOf(LiteralMatcher);
    expect(chooseMatcher(Array.from({ length: 50 }, (_, i) => lit(`value-${i}`)))).toBeInstanceOf(QgramMatcher);
  });
});
