import { READER_GONE, STOP_CHILD } from '../runner/spawn.js';
import { Sink, type ChildSink } from '../runner/sink.js';

/**
 * maxOutput: one byte budget shared by stdout and stderr (what the child wrote, before redaction). The
 * write that crosses it is cut at the limit, everything after is dropped, and the sink asks the runner
 * to stop the child's whole process group; the run is then marked truncated.
 */
export const DEFAULT_MAX_OUTPUT = 10 * 1024 * 1024;

/** What the cap writes into and ends: the run's RedactingSink, or any Writable. */
export type CappedInner = ChildSink & {
  end(): unknown;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
};

export class OutputCap {
  truncated = false;
  private used = 0;
  constructor(readonly max: number) {}

  wrap(inner: CappedInner): Sink {
    return new CappedSink(this, inner);
  }

  /** What of `chunk` fits the budget; `crossed` for the one write that reaches past it. */
  admit(chunk: Buffer): { part: Buffer; crossed: boolean } {
    if (this.truncated) return { part: chunk.subarray(0, 0), crossed: false };
    const room = this.max - this.used;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.used += part.length;
    const crossed = part.length < chunk.length;
    if (crossed) this.truncated = true;
    return { part, crossed };
  }
}

const closedEarly = () => new Error('the output sink closed before it finished');

class CappedSink extends Sink {
  constructor(private readonly cap: OutputCap, private readonly inner: CappedInner) {
    super();
    // The runner listens on what it was given; a reader that went away downstream still counts.
    inner.once(READER_GONE, () => this.emit(READER_GONE));
    inner.on('error', (err: Error) => this.destroy(err));
  }

  protected take(chunk: Buffer, done: (err?: Error | null) => void): void {
    const { part, crossed } = this.cap.admit(chunk);
    if (crossed) this.emit(STOP_CHILD);
    if (!part.length) return done();
    this.inner.write(part, (err) => done(err ?? null));
  }

  /**
   * The runner ends what it wrote to, this cap: the writes it still holds go first, then the sink below
   * ends (ending that sink itself while they waited here lost them: "write after end"). A sink below that
   * was destroyed before it finished sends no 'finish', but 'close'.
   */
  protected flush(done: (err?: Error | null) => void): void {
    const inner = this.inner;
    if (inner.writableFinished) return done();
    if (inner.destroyed) return done(closedEarly());
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      inner.off('finish', onFinish);
      inner.off('close', onClose);
      done(err ?? null);
    };
    const onFinish = () => settle();
    const onClose = () => settle(inner.writableFinished ? undefined : closedEarly());
    inner.once('finish', onFinish);
    inner.once('close', onClose);
    if (!inner.writableEnded) inner.end();
  }
}
