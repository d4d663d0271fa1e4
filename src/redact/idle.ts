import { IDLE_MS, type RedactorStream } from './stream.js';

/**
 * The pause rule's clock, for every consumer of a redactor stream (the exec/run output sink, the
 * `outloop redact` filter): while the stream holds bytes, `ms` of silence calls `idle()` and hands what
 * it releases to `emit`. Call `after()` once after every push, `stop()` at the end.
 */
export class IdleRelease {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: RedactorStream,
    private readonly emit: (held: Buffer) => void,
    private readonly fail: (err: Error) => void,
    private readonly ms: number = IDLE_MS,
  ) {}

  after(): void {
    if (this.ms <= 0 || this.stream.pending === 0) return this.stop();
    if (this.#timer !== undefined) return void this.#timer.refresh();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        const held = this.stream.idle();
        if (held.length > 0) this.emit(held);
      } catch (err) {
        this.fail(err as Error);
      }
    }, this.ms).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
