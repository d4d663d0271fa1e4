import { createHash, createHmac, randomBytes as nodeRandom } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hmacSha256, hmacSha256Hex, nativeDigestAvailable, randomBytes, sha256, sha256Hex, timingSafeEqual } from '../../src/digest.js';

/**
 * src/digest.ts serves the audit chain, the parse cache and ids from native/digest (node's own OpenSSL,
 * without loading node:crypto), or from node:crypto with OUTLOOP_NATIVE_DIGEST=0 or without the addon.
 * Both must give node:crypto's results byte for byte: a different MAC would make every existing audit
 * log fail to verify.
 */
const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from('abc'), Buffer.alloc(55, 1), Buffer.alloc(56, 2), Buffer.alloc(64, 3), Buffer.alloc(65, 4), nodeRandom(100_000)];
// Keys shorter than, equal to and longer than SHA-256's 64-byte block (a longer key is hashed first).
const keys: Buffer[] = [Buffer.alloc(0), Buffer.from('k'), nodeRandom(32), nodeRandom(64), nodeRandom(65), nodeRandom(200)];

it('native/digest is built and used here (CI builds it in npm ci)', () => {
  expect(nativeDigestAvailable()).toBe(true);
});

describe.each(['native', 'node:crypto'])('src/digest.ts through %s', (which) => {
  const saved = process.env.OUTLOOP_NATIVE_DIGEST;
  const use = () => {
    process.env.OUTLOOP_NATIVE_DIGEST = which === 'native' ? '1' : '0';
    expect(nativeDigestAvailable()).toBe(which === 'native');
  };
  afterEach(() => {
    if (saved === undefined) delete process.env.OUTLOOP_NATIVE_DIGEST;
    else process.env.OUTLOOP_NATIVE_DIGEST = saved;
  });

  it('sha256 is node:crypto\'s, for buffers across the block boundaries and for strings as UTF-8', () => {
    use();
    for (const x of inputs) expect(sha256(x).equals(createHash('sha256').update(x).digest())).toBe(true);
    const text = 'café ☕ \u{1F600} \0 end';
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hmacSha256 is node:crypto\'s, for every key length around the block size', () => {
    use();
    for (const k of keys) for (const x of inputs) expect(hmacSha256(k, x).equals(createHmac('sha256', k).update(x).digest())).toBe(true);
    expect(hmacSha256Hex('key', 'The quick brown fox jumps over the lazy dog')).toBe('f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  it('randomBytes gives the length asked for, different each time', () => {
    use();
    expect(randomBytes(0).length).toBe(0);
    const a = randomBytes(32);
    expect(a.length).toBe(32);
    expect(a.equals(randomBytes(32))).toBe(false);
  });

  it('timingSafeEqual: equal contents only; unequal lengths are unequal, never a throw', () => {
    use();
    expect(timingSafeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(timingSafeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(timingSafeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});
