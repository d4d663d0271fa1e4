import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';

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
  return FINGERPRINT_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 32);
}

/**
 * The install's fingerprint key, created on first use. Created with O_EXCL so two first runs at once
 * agree on one key (the loser reads the winner's); a key that changed would make old fingerprints
 * unmatchable.
 */
export function installKey(stateDir: string): Buffer {
  const file = join(stateDir, KEY_FILE);
  for (let attempt = 0; attempt < 50; attempt++) {
    const existing = readKey(file);
    if (existing) return existing;
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        // Another process is writing it right now; its bytes arrive in a moment.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      throw err;
    }
    const key = randomBytes(KEY_BYTES);
    try {
      writeSync(fd, `${key.toString('base64')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return key;
  }
  throw new Error(`the audit fingerprint key ${file} is empty or damaged`);
}

function readKey(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = Buffer.from(text.trim(), 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}
