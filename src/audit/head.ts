import { hmacSha256Hex, randomBytes } from '../digest.js';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { canonicalJson, isHash } from './canonical.js';

/**
 * The chain's last head, kept outside the log: how many records and bytes the log had after the last
 * append, and the last record's hash. A log cut back or emptied no longer reaches the head, and a chain
 * recomputed from scratch no longer ends in it, so `audit verify` can tell both from an intact log. The
 * head is replaced atomically (temp, fsync, rename) after each append, under the log's lock. When the
 * chain is keyed, the head carries a MAC under the same key, so whoever cannot compute the chain cannot
 * write a head that matches a forged one either.
 */
export interface AuditHead {
  v: 1;
  records: number;
  bytes: number;
  hash: string;
  chain: 'hmac-sha256' | 'sha256';
  /** Which key the chain is under (an HMAC of a fixed label, not the key), so a replaced key is named. */
  keyId?: string;
  ts: string;
  mac?: string;
}

export type HeadRead = { head: AuditHead } | { missing: true } | { problem: string };

export function readHead(file: string): HeadRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { problem: `cannot read the head file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `the head file ${file} is not valid JSON` };
  }
  const h = value as Partial<AuditHead> | null;
  if (
    !h || typeof h !== 'object' || h.v !== 1 || !Number.isSafeInteger(h.records) || h.records! < 0 ||
    !Number.isSafeInteger(h.bytes) || h.bytes! < 0 || !isHash(h.hash) || (h.chain !== 'hmac-sha256' && h.chain !== 'sha256')
  ) {
    return { problem: `the head file ${file} is not an audit head` };
  }
  return { head: h as AuditHead };
}

export function headMac(key: Buffer, head: AuditHead): string {
  const { mac: _mac, ...rest } = head;
  return hmacSha256Hex(key, `outloop audit head v1\0${canonicalJson(rest)}`);
}

export function keyIdOf(key: Buffer): string {
  return hmacSha256Hex(key, 'outloop audit key id v1').slice(0, 16);
}

/**
 * Replaced by rename, so a reader sees the old head or the new one, never half of one. Not fsynced: the
 * log line it follows is already durable, so a crash can only leave the head behind the log (verify
 * accepts records past the head), never ahead of it; two fsyncs per append would double an exec's cost.
 */
export function writeHead(file: string, head: AuditHead, key: Buffer | undefined): void {
  const out: AuditHead = key ? { ...head, keyId: keyIdOf(key) } : head;
  if (key) out.mac = headMac(key, out);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(out)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
