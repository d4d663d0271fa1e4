import { AuditError } from '../errors.js';
import { ZERO_HASH, hashRecord } from './canonical.js';
import { KEYED_CHAIN, keyedLinkOf, keyedTail } from './chain.js';
import { type AuditHead, headMac, keyIdOf, readHead } from './head.js';
import { type Line, readLines } from './lines.js';
import { describeOsError } from './os-error.js';
import { parseRecordLine } from './record.js';
import type { VerifyResult } from './types.js';

export interface VerifyOptions {
  /** The chain key: keyed records are checked with it; without it they cannot be, and verify says so. */
  chainKey?: Buffer;
  /** The head file the appender keeps (head.ts). Default `<file>.head`; false to check the file alone. */
  headFile?: string | false;
}

/**
 * Walk the chain and name the first record that breaks it. Only the first is named: after one break every
 * later link is suspect, and the first is where to start looking. Then hold the log against its head:
 * a log that ends before the head's last record was truncated (or emptied, or deleted), one whose record
 * there has another hash was rewritten. Without a head file (a log from before heads, or `headFile:
 * false`) removing records from the END cannot be detected from the file alone.
 */
export function verifyAuditFile(file: string, opts: VerifyOptions = {}): VerifyResult {
  const key = opts.chainKey;
  const headFile = opts.headFile === false ? undefined : (opts.headFile ?? `${file}.head`);
  let records = 0;
  let keyed = 0;
  let prev = ZERO_HASH;
  let bytes = 0;
  let firstBad: VerifyResult['firstBad'];
  // The hash of the record that ends at each byte offset is needed only at the head's offset.
  const head = headFile ? readHead(headFile) : ({ missing: true } as const);
  const headAt = 'head' in head ? head.head.bytes : -1;
  const headCount = 'head' in head ? head.head.records : -1;
  let hashAtHead: string | undefined;
  let hashAtCount: string | undefined;
  let missing = false;
  try {
    for (const line of readLines(file)) {
      records++;
      bytes = line.end;
      if (firstBad) continue;
      const result = checkLine(line, prev, key, keyed > 0);
      if ('hash' in result) {
        prev = result.hash;
        if (result.keyed) keyed++;
        if (line.end === headAt) hashAtHead = result.hash;
        if (records === headCount) hashAtCount = result.hash;
      } else firstBad = result;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || records !== 0) {
      throw new AuditError(`cannot read the audit log ${file}: ${describeOsError(err)}`, { cause: err });
    }
    missing = true;
  }
  const base = { records, ...(keyed ? { keyed } : {}) };
  if (firstBad) return { ok: false, ...base, firstBad };
  const tail = checkHead(file, headFile, head, { records, bytes, keyed, missing, hashAtHead, hashAtCount, key });
  if (tail) return { ok: false, ...base, tampered: tail };
  return { ok: true, ...base };
}

type Checked = { hash: string; keyed: boolean } | { line: number; id?: string; problem: string };

function checkLine(line: Line, prev: string, key: Buffer | undefined, afterKeyed: boolean): Checked {
  const tail = keyedTail(line.text);
  // The fast path: a keyed line whose MAC holds was written by the key holder as it stands, so it needs
  // no JSON parse and no canonical encode.
  if (tail && key && line.terminated && tail.prev === prev && keyedLinkOf(key, line.text) === tail.hash) {
    return { hash: tail.hash, keyed: true };
  }
  const parsed = parseRecordLine(line.text);
  if ('problem' in parsed) {
    const cut = line.terminated ? '' : ' (the last line was cut short)';
    return { line: line.number, ...(parsed.id === undefined ? {} : { id: parsed.id }), problem: parsed.problem + cut };
  }
  const { record } = parsed;
  const bad = (problem: string): Checked => ({
    line: line.number,
    ...(typeof record.id === 'string' ? { id: record.id } : {}),
    problem,
  });
  const isKeyed = record.chain === KEYED_CHAIN;
  if (isKeyed) {
    if (!key) return bad('the record is keyed (hmac-sha256) and no chain key was given to check it: run verify as the key holder');
    if (!tail) return bad('hash mismatch: record was modified (a keyed record must end with chain, prev and hash)');
    if (!equalHex(keyedLinkOf(key, line.text), tail.hash)) {
      return bad('HMAC mismatch: the record was modified, or its chain recomputed without the key');
    }
  } else {
    if (afterKeyed) return bad('an unkeyed record after keyed ones: the chain was rewritten without the key');
    if (hashRecord(record) !== record.hash) return bad('hash mismatch: record was modified');
  }
  if (record.prev !== prev) {
    return line.number === 1
      ? bad('prev of the first record is not 64 zeros: records before it were removed')
      : bad('prev does not match the previous record: a record was removed or reordered');
  }
  if (!line.terminated) return bad('no newline at the end: the last write was cut short');
  return { hash: record.hash, keyed: isKeyed };
}

interface Seen {
  records: number;
  bytes: number;
  keyed: number;
  missing: boolean;
  hashAtHead: string | undefined;
  hashAtCount: string | undefined;
  key: Buffer | undefined;
}

/** What is wrong with the log's end, held against the head; undefined when it agrees. */
function checkHead(file: string, headFile: string | undefined, read: ReturnType<typeof readHead>, seen: Seen): string | undefined {
  if (!headFile) return undefined;
  if ('problem' in read) return `${read.problem}: the log's end cannot be checked`;
  if ('missing' in read) {
    // Every keyed writer keeps a head; keyed records without one means it was removed.
    return seen.keyed > 0 ? `the head file ${headFile} is missing, though the log holds keyed records: it was removed, so truncation cannot be ruled out` : undefined;
  }
  const h: AuditHead = read.head;
  if (h.chain === KEYED_CHAIN) {
    if (!seen.key) return `the head file ${headFile} is keyed and no chain key was given to check it`;
    if (h.keyId !== keyIdOf(seen.key) || !h.mac || !equalHex(headMac(seen.key, h), h.mac)) {
      return h.keyId !== keyIdOf(seen.key)
        ? `the head file ${headFile} was written under another key (${h.keyId ?? 'none'}): the install key was replaced`
        : `the head file ${headFile} was modified: its MAC does not match`;
    }
  }
  const had = `${h.records} record(s), ${h.bytes} bytes, last hash ${h.hash.slice(0, 12)}…`;
  if (seen.missing) return `the log ${file} is missing, but its head file says it had ${had}`;
  if (seen.records === 0) return `the log ${file} is empty, but its head file says it had ${had}`;
  if (seen.hashAtHead === h.hash) return undefined;
  if (seen.records < h.records) {
    return `the log was truncated: it has ${seen.records} record(s) (${seen.bytes} bytes), but its head file says ${had}`;
  }
  const found = seen.hashAtCount ?? seen.hashAtHead;
  return `the log was rewritten: record ${h.records}, where its head file's last record was, has hash ${found ? `${found.slice(0, 12)}…` : 'none'}, but the head file says ${had} (a recomputed chain)`;
  return undefined;
}

/** Plain comparison: verify answers the person running it, and its timing is no oracle worth having. */
function equalHex(a: string, b: string): boolean {
  return a === b;
}
