import { Writable } from 'node:stream';
import { IdleRelease, type RedactorStream } from '../redact/index.js';
import { READER_GONE } from '../runner/spawn.js';

/**
 * Where a child's output goes: through its own redactor stream, then to the terminal (streamed) or to a
 * buffer (for --json). The redactor holds back only bytes that may begin a secret; `end` flushes them
 * under the end-of-stream rule.
 *
 * When the reader goes away (`outloop exec ... | head -1`), the sink emits READER_GONE once and
 * drops what follows, so the runner can end the child the way a bare pipeline would (SIGPIPE) and the
 * outcome still reaches the audit log, instead of outloop dying of an unhandled EPIPE.
 *
 * While bytes are held, a child silent for IDLE_MS gets them released under the redactor's pause rule
 * (`idle()`), so a prompt or a half-written line shows up instead of waiting for more output.
 */


export class RedactingSink extends Writable {
  private readonly chunks: Buffer[] | undefined;
  private readerGone = false;
  private readonly idle: IdleRelease;
  constructor(
    private readonly redactor: RedactorStream,
    private readonly dest: NodeJS.WritableStream | 'collect',
    /** Sees every byte this sink emits, after redaction (the run's recording: src/output/run.ts). */
    private readonly tap?: (bytes: Buffer) => void,
  ) {
    super();
    this.chunks = dest === 'collect' ? [] : undefined;
    this.idle = new IdleRelease(redactor, (held) => this.emitSafe(held, () => {}), (err) => this.destroy(err));
    if (dest !== 'collect') dest.on('error', (err) => this.destinationFailed(err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.emitSafe(this.redactor.push(chunk), cb);
    this.idle.after();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.idle.stop();
    this.emitSafe(this.redactor.end(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.idle.stop();
    cb(err);
  }

  get count(): number {
    return this.redactor.count;
  }

  /** Collected output (collect mode), as UTF-8 text. */
  text(): string {
    return this.chunks ? Buffer.concat(this.chunks).toString('utf8') : '';
  }

  private emitSafe(out: Buffer, cb: (err?: Error | null) => void): void {
    if (out.length === 0 || this.readerGone) return cb();
    this.tap?.(out);
    if (this.chunks) {
      this.chunks.push(out);
      return cb();
    }
    const dest = this.dest as NodeJS.WritableStream;
    // Wait for the destination to take the bytes: backpressure reaches the child through the pipe.
    dest.write(out, (err) => {
      if (err) this.destinationFailed(err);
      cb();
    });
  }

  private destinationFailed(err: Error): void {
    if (this.readerGone) return;
    this.readerGone = true;
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') this.emit('error', err);
    else this.emit(READER_GONE);
  }
}

export function endSink(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.end(() => resolve());
  });
}
