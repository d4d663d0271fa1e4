import { IdleRelease, type RedactorStream } from '../redact/index.js';
import { READER_GONE } from '../runner/spawn.js';
import { Sink } from '../runner/sink.js';
import type { OutputStream } from '../util/output-stream.js';

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


/**
 * The redactor stream and the destination may be given as functions: they are then made on the first
 * write or at the end, or, whichever comes first, in the event loop's first turn (setImmediate), which for
 * exec is once its child has been spawned. Compiling the shape rules (about 1.5 ms) then happens while the
 * child starts on the other core, not before it.
 */
export type Later<T> = T | (() => T);

export class RedactingSink extends Sink {
  private readonly chunks: Buffer[] | undefined;
  private readerGone = false;
  private armed: { redactor: RedactorStream; dest: OutputStream | 'collect'; idle: IdleRelease } | undefined;
  constructor(
    private readonly redactorLater: Later<RedactorStream>,
    private readonly destLater: Later<OutputStream> | 'collect',
    /** Sees every byte this sink emits, after redaction (the run's recording: src/output/run.ts). */
    private readonly tap?: (bytes: Buffer) => void,
  ) {
    super();
    this.chunks = destLater === 'collect' ? [] : undefined;
    if (typeof redactorLater !== 'function' && typeof destLater !== 'function') this.arm();
    else {
      setImmediate(() => {
        try {
          if (!this.destroyed) this.arm();
        } catch (err) {
          this.destroy(err as Error);
        }
      });
    }
  }

  private arm(): NonNullable<RedactingSink['armed']> {
    if (this.armed) return this.armed;
    const redactor = typeof this.redactorLater === 'function' ? this.redactorLater() : this.redactorLater;
    const dest = typeof this.destLater === 'function' ? this.destLater() : this.destLater;
    const idle = new IdleRelease(redactor, (held) => this.emitSafe(held, () => {}), (err) => this.destroy(err));
    this.armed = { redactor, dest, idle };
    if (dest !== 'collect') dest.on('error', (err) => this.destinationFailed(err));
    return this.armed;
  }

  protected take(chunk: Buffer, done: (err?: Error | null) => void): void {
    const { redactor, idle } = this.arm();
    this.emitSafe(redactor.push(chunk), done);
    idle.after();
  }

  protected flush(done: (err?: Error | null) => void): void {
    const { redactor, idle } = this.arm();
    idle.stop();
    this.emitSafe(redactor.end(), done);
  }

  protected override onDestroy(): void {
    this.armed?.idle.stop();
  }

  get count(): number {
    return this.armed?.redactor.count ?? 0;
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
    const dest = this.arm().dest as OutputStream;
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

/** End a sink (or a Writable) and wait until everything written has been taken; rejects on its error. */
export function endSink(sink: { end(cb: (err?: Error | null) => void): unknown; once(event: 'error', fn: (err: Error) => void): unknown }): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.end((err) => (err ? reject(err) : resolve()));
  });
}
