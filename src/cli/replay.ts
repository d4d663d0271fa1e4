import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, type AuditRecord } from '../audit/index.js';
import { Exit, OutloopError, UsageError } from '../errors.js';
import { resolveHomes } from '../paths.js';
import { CastFormatError, parseCast } from '../recording/cast.js';
import { recordingFile } from '../recording/writer.js';
import { writeJson } from './output.js';

/**
 * `outloop audit show ID` and `outloop replay ID`: one attempt's records, and its recording played back at
 * its own pace. Both check the recording against the sha256 its audit end record holds, so a recording
 * edited after the fact is reported, never played as if it were what the agent saw.
 */
export type RecordingStatus = 'ok' | 'missing' | 'tampered';

interface Linked {
  id: string;
  sha256: string;
  file: string;
  status: RecordingStatus;
  /** The file's text when it is intact. */
  text?: string;
}

function recordsOf(id: string): { records: AuditRecord[]; stateDir: string } {
  const homes = resolveHomes(process.env);
  const records = new AuditLog(homes.auditFile).readAll().filter((r) => r.id === id);
  if (!records.length) {
    throw new UsageError(`no audit record has id ${JSON.stringify(id)}`, { code: 'unknown_audit_id', next: 'Run `outloop audit` to see the ids of recent attempts.' });
  }
  return { records, stateDir: homes.stateDir };
}

function linkedRecording(records: AuditRecord[], stateDir: string): Linked | undefined {
  const link = records.map((r) => r.recording as { id?: unknown; sha256?: unknown } | undefined).find((l) => l && typeof l.id === 'string' && typeof l.sha256 === 'string');
  if (!link) return undefined;
  const id = link.id as string;
  const sha256 = link.sha256 as string;
  // The id comes from the log; it names a file only if it is an audit id, never a path.
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return { id, sha256, file: '', status: 'missing' };
  const file = recordingFile(stateDir, id);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return { id, sha256, file, status: 'missing' };
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  return actual === sha256 ? { id, sha256, file, status: 'ok', text: bytes.toString('utf8') } : { id, sha256, file, status: 'tampered' };
}

function recordingError(id: string, rec: Linked | undefined): OutloopError | undefined {
  if (!rec) {
    return new OutloopError('no_recording', Exit.noInput, `attempt ${id} has no recording`, {
      next: 'Recordings are made with `outloop exec --record` or `record: true` in the grant.',
    });
  }
  if (rec.status === 'missing') {
    return new OutloopError('recording_missing', Exit.noInput, `the recording of ${id} is gone (${rec.file || rec.id})`, {
      next: 'It may have passed recordRetention (default 30d) and been deleted; the audit record still holds its sha256.',
    });
  }
  if (rec.status === 'tampered') {
    return new OutloopError('recording_tampered', Exit.dataError, `the recording of ${id} does not match the sha256 in its audit record: it was changed after the run`, {
      next: 'Do not trust its contents; `outloop audit verify` checks the audit log itself.',
    });
  }
  return undefined;
}

export async function showCommand(id: string, o: { json?: boolean }): Promise<number> {
  const { records, stateDir } = recordsOf(id);
  const rec = linkedRecording(records, stateDir);
  const exitCode = rec ? (recordingError(id, rec)?.exitCode ?? 0) : 0;
  if (o.json) {
    writeJson({ id, records, recording: rec ? { id: rec.id, file: rec.file, sha256: rec.sha256, status: rec.status } : null });
    return exitCode;
  }
  const lines = [`attempt ${id}`];
  for (const r of records) {
    lines.push(`  ${r.phase ?? 'record'} ${r.ts}`);
    for (const [k, v] of Object.entries(r)) {
      if (['id', 'ts', 'phase', 'prev', 'hash'].includes(k) || v === null || v === undefined) continue;
      lines.push(`    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
  }
  if (rec) {
    const says = { ok: 'intact (sha256 matches the audit record)', missing: 'MISSING', tampered: 'TAMPERED (sha256 does not match the audit record)' }[rec.status];
    lines.push(`  recording ${rec.file}`, `    sha256: ${rec.sha256}`, `    status: ${says}`);
  } else lines.push('  recording: none');
  process.stdout.write(`${lines.join('\n')}\n`);
  return exitCode;
}

export async function replayCommand(id: string, o: { speed?: string; maxWait?: string }): Promise<number> {
  const speed = o.speed === undefined ? 1 : Number(o.speed);
  const maxWait = o.maxWait === undefined ? undefined : Number(o.maxWait);
  if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed must be a positive number (got ${o.speed})`, { next: 'e.g. --speed 2 plays twice as fast.' });
  if (maxWait !== undefined && (!Number.isFinite(maxWait) || maxWait < 0)) {
    throw new UsageError(`--max-wait must be a number of seconds (got ${o.maxWait})`, { next: 'e.g. --max-wait 2 caps every pause at 2 s.' });
  }
  const { records, stateDir } = recordsOf(id);
  const rec = linkedRecording(records, stateDir);
  const bad = recordingError(id, rec);
  if (bad) throw bad;
  let cast;
  try {
    cast = parseCast(rec!.text!);
  } catch (err) {
    if (!(err instanceof CastFormatError)) throw err;
    throw new OutloopError('recording_invalid', Exit.dataError, `the recording of ${id} is not valid asciicast v2 (${err.message})`, {
      next: 'Its sha256 matches the audit record, so it was written this way; report it.',
    });
  }
  const cap = maxWait ?? cast.header.idle_time_limit;
  const tty = Boolean(process.stdout.isTTY);
  // Ctrl-C stops playback at once (the pending pause is aborted), resets colours, and exits 130 like a shell.
  const stop = new AbortController();
  const onInt = () => stop.abort();
  process.once('SIGINT', onInt);
  try {
    let prev = 0;
    for (const [t, type, data] of cast.events) {
      if (type !== 'o') continue;
      let wait = (t - prev) / speed;
      if (cap !== undefined) wait = Math.min(wait, cap);
      prev = t;
      if (wait > 0.001) {
        try {
          await sleep(wait * 1000, undefined, { signal: stop.signal });
        } catch {
          break;
        }
      }
      if (stop.signal.aborted) break;
      // Stored as a terminal receives it (CRLF); a pipe or file gets the newlines the command printed.
      process.stdout.write(tty ? data : data.replace(/\r\n/g, '\n'));
    }
  } finally {
    process.off('SIGINT', onInt);
  }
  if (stop.signal.aborted) {
    if (tty) process.stdout.write('\x1b[0m\n');
    return 130;
  }
  return 0;
}
