import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFrom } from '../../src/paths.js';

/** resolveFrom skips path.resolve for a path it would not change; it must give resolve's answer for every path. */
describe('resolveFrom', () => {
  const parts = ['a', 'b.c', '.', '..', '', '...', '.x', 'x.', 'ü', '..y'];
  const paths: string[] = [];
  // Every path of up to three parts, absolute and relative, with and without a final slash.
  const walk = (prefix: string, depth: number) => {
    for (const p of parts) {
      const s = `${prefix}${p}`;
      paths.push(s, `/${s}`, `${s}/`, `/${s}/`, `//${s}`);
      if (depth < 3) walk(`${s}/`, depth + 1);
    }
  };
  walk('', 1);
  it(`agrees with path.resolve on ${paths.length} paths`, () => {
    const wrong = paths.filter((p) => resolveFrom('/base/dir', p) !== resolve('/base/dir', p));
    expect(wrong).toEqual([]);
  });
  it('returns an absolute normal path itself', () => {
    expect(resolveFrom('/base', '/srv/clients/acme')).toBe('/srv/clients/acme');
    expect(resolveFrom('/base', '/srv/clients/acme/')).toBe('/srv/clients/acme');
    expect(resolveFrom('/base', '/srv/./acme')).toBe('/srv/acme');
  });
});
