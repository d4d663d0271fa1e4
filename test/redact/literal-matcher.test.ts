import { describe, expect, it } from 'vitest';
import { LiteralMatcher } from '../../src/redact/index.js';

const lit = (label: string, text: string) => ({ label, bytes: Buffer.from(text) });

describe('LiteralMatcher', () => {
  const m = new LiteralMatcher([lit('A', 'abab'), lit('B', 'bax'), lit('C', 'zzzzzzzz')]);

  it('finds every occurrence, overlapping and self-overlapping ones included', () => {
    const found = m.findAll(Buffer.from('ababab bax')).map((o) => [o.start, o.end, o.literal]);
    expect(found.sort((a, b) => a[0]! - b[0]!)).toEqual([
      [0, 4, 0],
      [2, 6, 0],
      [7, 10, 1],
    ]);
  });

  it('reports the earliest tail that is a proper prefix, and every such tail', () => {
    expect(m.pendingStart(Buffer.from('xxaba'))).toBe(2);
    expect(m.partials(Buffer.from('xxaba')).map((o) => [o.start, o.literal])).toEqual([
      [2, 0],
      [3, 1],
      [4, 0],
    ]);
    // A complete match is not pending unless a longer literal continues it.
    expect(m.pendingStart(Buffer.from('xxbax'))).toBe(5);
    expect(m.pendingStart(Buffer.from('hello'))).toBe(5);
    expect(m.maxLength).toBe(8);
  });
});
