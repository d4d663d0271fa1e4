import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync } from 'node:fs';
import { hmacSha256Hex, randomBytes } from '../digest.js';
import { join } from 'node:path';
import { AuditError } from '../errors.js';
import { createFileExclusive } from '../fs/atomic.js';
import { readHead } from './head.js';
import { describeOsError } from './os-error.js';

/**
 * Fingerprints of secret values for the audit log: HMAC-SHA256 under a per-install key, as Vault's audit
 * devices do. A person holding a value can later ask "was this key used?" (`outloop audit lookup`)
 * while the log itself never holds the value, nor a plain hash that could be checked against a list of
 * leaked keys by anyone who copies the log.
 */
export const FINGERPRINT_PREFIX = 'hmac-sha256:';
const KEY_FILE = 'audit.key';
const KEY_BYTES = 32;

export function fingerprint(key: Buffer, value: string): string {
  // 128 bits is plenty to tell values apart and keeps records short.
  return FINGERPRINT_PREFIX + hmacSha256Hex(key, value).slice(0, 32);
}

/**
 * The install's key, created on first use: fingerprints are HMACs under it, and the audit chain's key is
 * derived from it (chain.ts). Written whole or not at all (temp file, fsync, then link(2), which fails if
 * another process linked first, so two first runs agree on one key). A key that changed would make old
 * fingerprints unmatchable and the keyed chain unverifiable, so a key that is missing or damaged while
 * the audit trail shows it was in use is never replaced quietly: that refuses, with the way out.
 */
export function installKey(stateDir: string, opts: { auditFile?: string } = {}): Buffer {
  const file = join(stateDir, KEY_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = readKey(file);
    if ('key' in state) return state.key;
    const used = keyInUse(opts.auditFile ?? join(stateDir, 'audit.jsonl'));
    if (used) throw keyRefusal(file, state, used);
    if ('damaged' in state) {
      // A key no record used: a first write cut short (ENOSPC, a crash in an older version). Move it
      // aside, so exactly one of several racing processes does, and create a new one below.
      try {
        renameSync(file, `${file}.damaged-${Date.now()}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    if (createKey(file)) continue;
  }
  throw new AuditError(`the install key ${file} keeps changing under outloop: another process is rewriting it`, {
    next: `Stop the other process that writes ${file} and retry.`,
  });
}

type KeyState = { key: Buffer } | { missing: true } | { damaged: string };

function readKey(file: string): KeyState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw new AuditError(`cannot read the install key ${file}: ${describeOsError(err)}`, { cause: err });
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length === KEY_BYTES) return { key };
  return { damaged: text.length === 0 ? 'it is empty (0 bytes), as a write cut short by a full disk leaves it' : `it holds ${text.length} bytes that are not a ${KEY_BYTES}-byte key` };
}

/** Link a complete new key into place; false when another process's key got there first. */
function createKey(file: string): boolean {
  try {
    return createFileExclusive(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
  } catch (err) {
    throw new AuditError(`cannot create the install key ${file}: ${describeOsError(err)}`, { cause: err });
  }
}

/**
 * Evidence that records were made under a key, or undefined: the head file names the key it was MACed
 * under; an older log without a head shows it by a keyed record or a fingerprint. Read only when the key
 * is missing or damaged, so the scan costs nothing on the normal path.
 */
export function keyInUse(auditFile: string): string | undefined {
  const head = readHead(`${auditFile}.head`);
  if ('head' in head && head.head.keyId) return `the audit log ${auditFile} has ${head.head.records} record(s) made under it`;
  let fd: number;
  try {
    fd = openSync(auditFile, 'r');
  } catch {
    return undefined;
  }
  try {
    const marks = [Buffer.from('"chain":"hmac-sha256"'), Buffer.from(`"fingerprint":"${FINGERPRINT_PREFIX}`)];
    const chunk = Buffer.alloc(1 << 20);
    let carry = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) return undefined;
      pos += n;
      const window = Buffer.concat([carry, chunk.subarray(0, n)]);
      if (marks.some((m) => window.includes(m))) return `the audit log ${auditFile} has records made under it`;
      carry = Buffer.from(window.subarray(Math.max(0, window.length - 64)));
    }
  } finally {
    closeSync(fd);
  }
}

function keyRefusal(file: string, state: { missing: true } | { damaged: string }, used: string): AuditError {
  const what = 'missing' in state ? 'is missing' : `is damaged: ${state.damaged}`;
  return new AuditError(
    `the install key ${file} ${what}, but ${used}; a new key would make \`outloop audit lookup\` miss every earlier use and \`outloop audit verify\` fail, so outloop will not make one by itself; nothing was run`,
    {
      next: `Restore ${file} from a backup and retry. To start over with a new key instead, move the audit log and its .head file aside (keep them with the old key to verify them later); the next run starts a new chain.`,
    },
  );
}
