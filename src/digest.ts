import { loadNative } from './native.js';

/**
 * SHA-256, HMAC-SHA256, random bytes and a constant-time compare: all the audit chain, the parse cache
 * and ids need. From native/digest (node's own OpenSSL, called directly) where it is built, because
 * node:crypto costs 2-3 ms to load and a no-op exec needs nothing else of it; from node:crypto otherwise,
 * with the same results. `OUTLOOP_NATIVE_DIGEST=0` forces node:crypto. Streams (a 100 MB binary's hash)
 * and everything else keep using node:crypto.
 */
interface DigestAddon {
  sha256(data: Buffer): Buffer;
  hmacSha256(key: Buffer, data: Buffer): Buffer;
  randomBytes(n: number): Buffer;
  equal(a: Buffer, b: Buffer): boolean;
}

let addon: DigestAddon | null | undefined;

function native(): DigestAddon | null {
  if (process.env.OUTLOOP_NATIVE_DIGEST === '0') return null;
  if (addon === undefined) addon = loadNative<DigestAddon>('digest');
  return addon;
}

/** Whether the addon serves these functions in this process (the tests check that CI builds it). */
export function nativeDigestAvailable(): boolean {
  return native() !== null;
}

const nodeCrypto = () => process.getBuiltinModule('node:crypto');
const bytes = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x);

/** sha256 of `data` (a string as UTF-8). */
export function sha256(data: string | Buffer): Buffer {
  const n = native();
  return n ? n.sha256(bytes(data)) : nodeCrypto().createHash('sha256').update(bytes(data)).digest();
}

export function sha256Hex(data: string | Buffer): string {
  return sha256(data).toString('hex');
}

/** HMAC-SHA256 of `data` under `key` (strings as UTF-8). */
export function hmacSha256(key: string | Buffer, data: string | Buffer): Buffer {
  const n = native();
  return n ? n.hmacSha256(bytes(key), bytes(data)) : nodeCrypto().createHmac('sha256', bytes(key)).update(bytes(data)).digest();
}

export function hmacSha256Hex(key: string | Buffer, data: string | Buffer): string {
  return hmacSha256(key, data).toString('hex');
}

/** `n` bytes from OpenSSL's CSPRNG (what node:crypto's randomBytes reads). */
export function randomBytes(n: number): Buffer {
  const a = native();
  return a ? a.randomBytes(n) : nodeCrypto().randomBytes(n);
}

/** Equal contents, compared in time that does not depend on where they differ; unequal lengths are unequal. */
export function timingSafeEqual(a: Buffer, b: Buffer): boolean {
  const n = native();
  if (n) return n.equal(a, b);
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b);
}
