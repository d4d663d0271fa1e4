import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fsyncDir } from '../fs/atomic.js';
import { encodeEvent, encodeHeader, toTerminalNewlines, type CastHeader } from './cast.js';

/**
 * A run's recording, written while it runs: `<state>/recordings/.<id>.cast.partial` (0600, created
 * exclusively), appended event by event, then fsynced and renamed to `<id>.cast` when the run ends. A
 * run killed midway leaves only a `.partial`, which retention removes like any old recording; a
 * finished file is never half-written.
 *
 * It is fed only bytes that already passed the redactor (and the output contract): see
 * src/broker/sinks.ts, where the tap sits after redaction. stdout and stderr are merged into "o" events
 * in the order outloop emitted them, as a terminal running the command would have shown them.
 */
export function recordingsDir(stateDir: string): string {
  return join(stateDir, 'recordings');
}

export function recordingFile(stateDir: string, id: string): string {
  return join(recordingsDir(stateDir), `${id}.cast`);
}

export interface FinishedRecording {
  id: string;
  sha256: string;
  file: string;
}

export class CastWriter {
  readonly #dir: string;
  readonly #file: string;
  readonly #partial: string;
  readonly #hash: Hash = createHash('sha256');
  readonly #t0 = performance.now();
  readonly #decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  readonly #cr = { stdout: false, stderr: false };
  #fd: number;
  #done: FinishedRecording | undefined;

  constructor(
    stateDir: string,
    readonly id: string,
    header: Omit<CastHeader, 'version'>,
  ) {
    const dir = recordingsDir(stateDir);
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#file = recordingFile(stateDir, id);
    this.#partial = join(dir, `.${id}.cast.partial`);
    this.#fd = openSync(this.#partial, 'wx', 0o600);
    this.#append(encodeHeader({ version: 2, ...header }));
  }

  /** Redacted bytes of one stream, as they were emitted. */
  output(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    this.#text(stream, this.#decoders[stream].write(bytes));
  }

  /** Text outloop itself showed in place of output (an error), so the recording matches the screen. */
  note(text: string): void {
    this.#text('stderr', text);
  }

  finish(): FinishedRecording {
    if (this.#done) return this.#done;
    for (const s of ['stdout', 'stderr'] as const) this.#text(s, this.#decoders[s].end());
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
    renameSync(this.#partial, this.#file);
    fsyncDir(this.#dir);
    this.#done = { id: this.id, sha256: this.#hash.digest('hex'), file: this.#file };
    return this.#done;
  }

  #text(stream: 'stdout' | 'stderr', text: string): void {
    if (!text || this.#done) return;
    const t = toTerminalNewlines(text, this.#cr[stream]);
    this.#cr[stream] = t.endsInCr;
    this.#append(encodeEvent((performance.now() - this.#t0) / 1000, 'o', t.text));
  }

  #append(line: string): void {
    const buf = Buffer.from(line, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.#fd, buf, off, buf.length - off);
    this.#hash.update(buf);
  }
}

/** Delete recordings (and leftover .partial files) last written more than maxAgeMs ago. */
export function sweepRecordings(stateDir: string, maxAgeMs: number, now = Date.now()): number {
  const dir = recordingsDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) {
    if (!n.endsWith('.cast') && !n.endsWith('.cast.partial')) continue;
    const p = join(dir, n);
    try {
      const st = statSync(p);
      if (st.isFile() && now - st.mtimeMs > maxAgeMs) {
        rmSync(p, { force: true });
        removed++;
      }
    } catch {
      // Removed by a concurrent sweep: the same outcome.
    }
  }
  return removed;
}
