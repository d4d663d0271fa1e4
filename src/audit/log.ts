import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError } from '../errors.js';
import { fsyncDir } from '../fs/atomic.js';
import { LockTimeoutError, withFileLock } from '../fs/lock.js';
import { ZERO_HASH } from './canonical.js';
import { KEYED_CHAIN } from './chain.js';
import { type AuditHead, readHead, writeHead } from './head.js';
import { type JournalOptions, JournalSink } from './journal.js';
import { countNewlines, readAt, readLastLine, readLines } from './lines.js';
import { describeOsError } from './os-error.js';
import { buildRecord, entryProblem, parseRecordLine } from './record.js';
import type { AuditEntry, AuditRecord } from './types.js';

export interface AuditLogOptions {
  /** How long append waits for another process's lock before failing closed. Default 10 s. */
  lockTimeoutMs?: number;
  /**
   * The chain's HMAC key (or a function that reads it when the first record is written). Without one the
   * log writes the original unkeyed SHA-256 chain, which anyone who can write the file can recompute.
   */
  chainKey?: Buffer | (() => Buffer);
  /** Where the last head is kept (head.ts). Default `<file>.head`; false for none. */
  headFile?: string | false;
  /** Also send each record to journald or syslog (journal.ts) as it is written. Default off. */
  journal?: boolean | JournalOptions;
  /** Fields added to every record, read at each append; the entry's own fields win. */
  context?: () => Record<string, unknown> | undefined;
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
  readonly headFile: string | undefined;
  private readonly lockTimeoutMs: number;
  private readonly keySource: AuditLogOptions['chainKey'];
  private key: Buffer | undefined;
  private readonly journal: JournalSink | undefined;
  private readonly context: AuditLogOptions['context'];
  /** The head after this process's last start record, not yet written (see headAfter). */
  private pending: AuditHead | undefined;

  constructor(file: string, opts: AuditLogOptions = {}) {
    this.file = file;
    this.lockFile = `${file}.lock`;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.headFile = opts.headFile === false ? undefined : (opts.headFile ?? `${file}.head`);
    this.keySource = opts.chainKey;
    this.journal = opts.journal ? new JournalSink(opts.journal === true ? {} : opts.journal) : undefined;
    this.context = opts.context;
  }

  private chainKey(): Buffer | undefined {
    if (this.key || !this.keySource) return this.key;
    this.key = typeof this.keySource === 'function' ? this.keySource() : this.keySource;
    return this.key;
  }

  /** Read the chain key and load the journal's addon now rather than at the first record. */
  prepare(): void {
    try {
      this.chainKey();
    } catch {
      // The first append reads it again and fails closed with the reason.
    }
    this.journal?.prepare();
  }

  async append(given: AuditEntry): Promise<AuditRecord> {
    const extra = this.context?.();
    const entry = extra ? { ...extra, ...given } : given;
    const problem = entryProblem(entry);
    if (problem) {
      throw new AuditError(`cannot write the audit log ${this.file}: invalid record (${problem}); ${consequence(entry)}`);
    }
    try {
      // The lock's folder is the log's: acquiring it makes the folder when it is missing.
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
    const key = this.chainKey();
    const fd = openSync(this.file, 'a+', 0o600);
    try {
      const stat = fstatSync(fd);
      // A symlink to /dev/null (or any non-file) would accept every write and keep nothing.
      if (!stat.isFile()) {
        throw new AuditError(`cannot write the audit log ${this.file}: it is not a regular file; ${consequence(entry)}`);
      }
      const size = stat.size;
      const prev = size === 0 ? ZERO_HASH : this.lastHash(fd, size, entry);
      const { record, text } = buildRecord(entry, prev, key);
      const line = Buffer.from(`${text}\n`, 'utf8');
      try {
        writeFully(fd, line);
        fdatasyncSync(fd);
        if (this.headFile) this.headAfter(fd, size, prev, record, size + line.length, key);
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
      this.journal?.send(record, text);
      return record;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The new head: the count carries on from the old head when that one ended where this append began,
   * else (an older log, a crash between the two writes) it is counted once, O(N) on that append only.
   */
  private headAfter(fd: number, size: number, prev: string, record: AuditRecord, bytes: number, key: Buffer | undefined): void {
    const known = this.pending ?? (() => {
      const old = readHead(this.headFile!);
      return 'head' in old ? old.head : undefined;
    })();
    const before = recordsBefore(fd, size, prev, known);
    const head: AuditHead = { v: 1, records: before + 1, bytes, hash: record.hash, chain: key ? KEYED_CHAIN : 'sha256', ts: record.ts };
    // A start record is followed by its end record within the same run, which writes the head for both:
    // the file is replaced once per exec, not twice. A run that dies in between leaves the head one record
    // behind the log, which verify accepts (as after a crash between a line and its head), and the next
    // append, by whichever process, brings it up to date.
    if (record.phase === 'start') {
      this.pending = head;
      return;
    }
    this.pending = undefined;
    writeHead(this.headFile!, head, key);
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

/**
 * How many records the log holds before this append: the known head's count when it ends right here; when
 * other processes appended since (concurrent execs), that count plus the lines after it; else (an older
 * log, a head that is missing or off a line boundary) all lines counted, O(N) on that append only.
 */
function recordsBefore(fd: number, size: number, prev: string, known: AuditHead | undefined): number {
  if (size === 0) return 0;
  if (known && known.bytes === size && known.hash === prev) return known.records;
  if (known && known.bytes > 0 && known.bytes < size && readAt(fd, known.bytes - 1, 1)[0] === 0x0a) {
    return known.records + countNewlines(fd, size, known.bytes);
  }
  return countNewlines(fd, size);
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
