import { closeSync, fstatSync, openSync } from 'node:fs';
import { AuditError } from '../errors.js';
import { readLinesBackward, readLinesFd } from './lines.js';
import { describeOsError } from './os-error.js';
import { parseRecordLine } from './record.js';
import type { AuditRecord } from './types.js';

/**
 * Whether this record is the first of its attempt: a start, or an end that no start precedes (a denial,
 * a check or dry run, a request that failed before it ran). Only runAttempt writes a start, and its end
 * records are the ones that carry `secrets` from a real run.
 */
function opensAttempt(r: AuditRecord): boolean {
  if (r.phase === 'start' || r.mode === 'check' || r.dryRun === true) return true;
  return !Array.isArray(r.secrets);
}

/**
 * The last `n` attempts (by where each began, as the table orders them), with all their records in file
 * order, read from the end backwards: the cost follows n, not the log's length. Also the byte offset the
 * file ended at, for `--follow` to read on from.
 */
export function tailAttempts(file: string, n: number): { records: AuditRecord[]; end: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], end: 0 };
    throw new AuditError(`cannot read the audit log ${file}: ${describeOsError(err)}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const seen: AuditRecord[] = [];
    const opened = new Set<string>();
    for (const line of readLinesBackward(fd, size)) {
      if (opened.size >= n) break;
      const parsed = parseRecordLine(line.text);
      if (!('record' in parsed)) continue;
      seen.push(parsed.record);
      if (opensAttempt(parsed.record)) opened.add(parsed.record.id);
    }
    // An id seen only by its later records began before the window: it is older than the n kept.
    return { records: seen.filter((r) => opened.has(r.id)).reverse(), end: size };
  } finally {
    closeSync(fd);
  }
}

/** Records appended since byte `from`, and where the file now ends (only whole lines are consumed). */
export function recordsSince(file: string, from: number): { records: AuditRecord[]; end: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], end: from };
    throw new AuditError(`cannot read the audit log ${file}: ${describeOsError(err)}`, { cause: err });
  }
  try {
    const records: AuditRecord[] = [];
    let end = from;
    for (const line of readLinesFd(fd, from)) {
      if (!line.terminated) break;
      end = line.end;
      const parsed = parseRecordLine(line.text);
      if ('record' in parsed) records.push(parsed.record);
    }
    return { records, end };
  } finally {
    closeSync(fd);
  }
}
