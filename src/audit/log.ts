import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError } from '../errors.js';
import { fsyncDir } from '../fs/atomic.js';
import { LockTimeoutError, withFileLock } from '../fs/lock.js';
import { ZERO_HASH } from './canonical.js';
import { countNewlines, readLastLine, readLines } from './lines.js';
import { describeOsError } from './os-error.js';
import { buildRecord, entryProblem, parseRecordLine } from './record.js';
import type { AuditEntry, AuditRecord } from './types.js';

export interface AuditLogOptions {
  /** How long append waits for another process's lock before failing closed. Default 10 s. */
  lockTimeoutMs?: number;
}

/**
 * The append side of audit.jsonl. Each append holds the inter-process lock `<file>.lock` while it reads
 * the last record's hash, writes one line through an O_APPEND fd and fdatasyncs it, so concurrent outloop
 * processes extend one unbroken chain. Every failure throws AuditError: a caller that cannot record an
 * attempt must not make it.
 */
export class AuditLog {
  readonly file: string;
  readonly lockFile: string;
  private readonly lockTimeoutMs: number;

  constructor(file: string, opts: AuditLogOptions = {}) {
    this.file = file;
    this.lockFile = `${file}.lock`;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
  }

  async append(entry: AuditEntry): Promise<AuditRecord> {
    const problem = entryProblem(entry);
    if (problem) {
      throw new AuditError(`cannot write the audit log ${this.file}: invalid record (${problem}); ${consequence(entry)}`);
    }
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      return await withFileLock(this.lockFile, () => this.appendLocked(entry), { timeoutMs: this.lockTimeoutMs });
    } catch (err) {
      throw this.asAuditError(err, entry);
    }
  }

  /** All records that parse, in file order. Damaged lines are skipped here; verifyAuditFile reports them. */
  readAll(): AuditRecord[] {
    const records: AuditRecord[] = [];
    try {
      for (const line of readLines(this.file)) {
        const parsed = parseRecordLine(line.text);
        if ('record' in parsed) records.push(parsed.record);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AuditError(`cannot read the audit log ${this.file}: ${describeOsError(err)}`, { cause: err });
    }
    return records;
  }

  private appendLocked(entry: AuditEntry): AuditRecord {
    const fd = openSync(this.file, 'a+', 0o600);
    try {
      const stat = fstatSync(fd);
      // A symlink to /dev/null (or any non-file) would accept every write and keep nothing.
      if (!stat.isFile()) {
        throw new AuditError(`cannot write the audit log ${this.file}: it is not a regular file; ${consequence(entry)}`);
      }
      const size = stat.size;
      const prev = size === 0 ? ZERO_HASH : this.lastHash(fd, size, entry);
      const record = buildRecord(entry, prev);
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      try {
        writeFully(fd, line);
        fdatasyncSync(fd);
      } catch (err) {
        // A half-written line would make every later append refuse; the failure is reported either way.
        try {
          ftruncateSync(fd, size);
        } catch {
          /* the original error is the one to report */
        }
        throw err;
      }
      // A new file's directory entry must be durable too, or a crash can lose the whole log.
      if (size === 0) fsyncDir(dirname(this.file));
      return record;
    } finally {
      closeSync(fd);
    }
  }

  private lastHash(fd: number, size: number, entry: AuditEntry): string {
    const last = readLastLine(fd, size);
    let problem: string | undefined;
    let hash: string | undefined;
    if (!last.terminated) {
      problem = 'the last line was cut short: no newline at its end';
    } else {
      const parsed = parseRecordLine(last.text);
      if ('problem' in parsed) problem = parsed.problem;
      else hash = parsed.record.hash;
    }
    if (hash !== undefined) return hash;
    const line = countNewlines(fd, last.start) + 1;
    const advice = `run \`outloop audit verify\`, or move the file aside to start a new chain`;
    throw new AuditError(
      `the audit log ${this.file} is damaged at line ${line} (${problem}): ${advice}; ${consequence(entry)}`,
      { next: `Run \`outloop audit verify\`, or move ${this.file} aside to start a new chain.` },
    );
  }

  private asAuditError(err: unknown, entry: AuditEntry): AuditError {
    if (err instanceof AuditError) return err;
    const head = `cannot write the audit log ${this.file}`;
    if (err instanceof LockTimeoutError) {
      const holder = err.ownerPid === undefined ? '' : ` held by pid ${err.ownerPid}`;
      return new AuditError(
        `${head}: timed out after ${this.lockTimeoutMs} ms waiting for its lock ${err.path}${holder}; ${consequence(entry)}`,
        {
          cause: err,
          next: `If no outloop process is running${holder ? ` as pid ${err.ownerPid}` : ''}, delete ${err.path} and retry.`,
        },
      );
    }
    return new AuditError(`${head}: ${describeOsError(err)}; ${consequence(entry)}`, { cause: err });
  }
}

function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** What the failure means for the attempt being recorded, so the user knows whether anything happened. */
function consequence(entry: AuditEntry): string {
  const ran = entry.phase === 'end' && entry.decision === 'allow' && entry.mode !== 'check';
  return ran ? 'the run finished but its outcome was not recorded' : 'nothing was run';
}
