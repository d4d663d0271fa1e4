import { hmacSha256, hmacSha256Hex } from '../digest.js';

/**
 * The keyed link. A record marked `"chain":"hmac-sha256"` has as its `hash` the HMAC-SHA256, under the
 * chain key, of its own line's exact bytes with the `"hash"` member taken off the end. Without the key
 * nobody can recompute a chain that verifies, which a plain SHA-256 chain cannot promise: anyone who can
 * write the file can rewrite every hash. MACing the bytes as written (instead of re-encoding the parsed
 * record canonically) is what makes verify cheap, and no reading of the JSON can disagree with them.
 *
 * Records without `chain` are the original unkeyed kind (SHA-256 of the canonical JSON, canonical.ts);
 * they stay verifiable, but once a keyed record appears, an unkeyed one after it is a break.
 */
export const KEYED_CHAIN = 'hmac-sha256';

const TAIL_HEAD = ',"chain":"hmac-sha256","prev":"';
const TAIL_MID = '","hash":"';
const TAIL_LENGTH = TAIL_HEAD.length + 64 + TAIL_MID.length + 64 + '"}'.length;
const HASH_MEMBER_LENGTH = ',"hash":"'.length + 64 + '"'.length;

/** The line for a record whose JSON (without `hash`, ending with `"prev":"…"}`) is `body`. */
export function keyedLine(key: Buffer, body: string): { hash: string; line: string } {
  const hash = mac(key, body);
  return { hash, line: `${body.slice(0, -1)},"hash":"${hash}"}` };
}

/** Whether a line has the keyed shape; its prev and claimed hash if so. */
export function keyedTail(text: string): { prev: string; hash: string } | undefined {
  // Fixed offsets from the end: verify reads this for every line, so no regex scan of the whole line.
  const at = text.length - TAIL_LENGTH;
  if (at < 1 || !text.startsWith(TAIL_HEAD, at) || !text.startsWith(TAIL_MID, at + TAIL_HEAD.length + 64) || !text.endsWith('"}')) return undefined;
  // Not checked as hex here: the fast path compares both with values it computed, and the slow path
  // re-reads them through parseRecordLine.
  return { prev: text.slice(at + TAIL_HEAD.length, at + TAIL_HEAD.length + 64), hash: text.slice(text.length - 66, text.length - 2) };
}

/** The MAC a keyed line should carry: over the line minus its hash member. */
export function keyedLinkOf(key: Buffer, text: string): string {
  return mac(key, `${text.slice(0, -HASH_MEMBER_LENGTH - 1)}}`);
}

function mac(key: Buffer, body: string): string {
  return hmacSha256Hex(key, body);
}

/** The chain key from the install key: a separate derived key, so a fingerprint is never a chain MAC. */
export function deriveChainKey(installKey: Buffer): Buffer {
  return hmacSha256(installKey, 'outloop audit chain v1');
}
