import { AuditError } from '../errors.js';
import { ZERO_HASH, hashRecord } from './canonical.js';
import { type Line, readLines } from './lines.js';
import { describeOsError } from './os-error.js';
import { parseRecordLine } from './record.js';
import type { VerifyResult } from './types.js';

/**
 * Walk the chain and name the first record that breaks it. Only the first is named: after one break every
 * later link is suspect, and the first is where to start looking. A missing file is an empty, valid log.
 * Removing records from the END of the file cannot be detected from the file alone.
 */
export function verifyAuditFile(file: string): VerifyResult {
  let records = 0;
  let prev = ZERO_HASH;
  let firstBad: VerifyResult['firstBad'];
  try {
    for (const line of readLines(file)) {
      records++;
      if (firstBad) continue;
      const result = checkLine(line, prev);
      if ('hash' in result) prev = result.hash;
      else firstBad = result;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && records === 0) return { ok: true, records: 0 };
    throw new AuditError(`cannot read the audit log ${file}: ${describeOsError(err)}`, { cause: err });
  }
  return firstBad ? { ok: false, records, firstBad } : { ok: true, records };
}

type Checked = { hash: string } | { line: number; id?: string; problem: string };

function checkLine(line: Line, prev: string): Checked {
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
  if (hashRecord(record) !== record.hash) return bad('hash mismatch: record was modified');
  if (record.prev !== prev) {
    return line.number === 1
      ? bad('prev of the first record is not 64 zeros: records before it were removed')
      : bad('prev does not match the previous record: a record was removed or reordered');
  }
  if (!line.terminated) return bad('no newline at the end: the last write was cut short');
  return { hash: record.hash };
}
