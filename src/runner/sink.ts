import { EventEmitter } from 'node:events';

type Done = (err?: Error | null) => void;

/**
 * What the runner (runChild, runPty) needs of the place it writes a child's output: the part of a node
 * Writable it uses. Writables have it (tests hand it PassThroughs), and so has Sink below.
 */
export interface ChildSink extends Pick<EventEmitter, 'on' | 'once' | 'off' | 'emit'> {
  write(chunk: Buffer, cb?: Done): boolean;
  readonly writableNeedDrain: boolean;
}

/** As a Writable's default: a write that leaves this much not yet taken asks the writer to wait for 'drain'. */
const HIGH_WATER = 16 * 1024;

/**
 * A child's output sink without node:stream, which costs an exec about 2 ms to load and first use for a
 * queue the sinks do not need. Each write goes to `take` at once, in order; `take` calls back once its
 * destination has the bytes. While HIGH_WATER bytes or more are not yet taken, write() returns false and
 * 'drain' follows when all are. end() waits for them, then for `flush`, then emits 'finish' and 'close'.
 * An error (given to a callback, or to destroy) ends it: 'error', then 'close', and every later write and
 * end is called back with that error. Like a Writable, its 'error' must be listened for.
 */
export abstract class Sink extends EventEmitter implements ChildSink {
  #pending = 0;
  /** The callbacks of writes not yet taken: a destroy calls them back, as a Writable does. */
  #inFlight = new Set<{ n: number; cb: Done | undefined }>();
  #needDrain = false;
  #enders: Done[] | undefined;
  #flushing = false;
  #finished = false;
  #error: Error | undefined;
  destroyed = false;

  /** Hand one write on; `done` when it is taken (or failed). */
  protected abstract take(chunk: Buffer, done: Done): void;
  /** Everything written is taken: pass on what is held, and end what is below. */
  protected abstract flush(done: Done): void;
  /** Stop timers; called once, by destroy. */
  protected onDestroy(): void {}

  get writableNeedDrain(): boolean {
    return this.#needDrain;
  }

  get writableEnded(): boolean {
    return this.#enders !== undefined;
  }

  get writableFinished(): boolean {
    return this.#finished;
  }

  write(chunk: Buffer | string, cb?: Done): boolean {
    if (this.destroyed || this.#enders) {
      const err = this.#error ?? new Error('write after end');
      if (cb) process.nextTick(cb, err);
      return false;
    }
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    // An empty write still waits its turn, as in a Writable.
    const n = Math.max(bytes.length, 1);
    this.#pending += n;
    if (this.#pending >= HIGH_WATER) this.#needDrain = true;
    const rec = { n, cb };
    this.#inFlight.add(rec);
    this.take(bytes, (err) => {
      if (this.#inFlight.delete(rec)) this.#taken(n, err, cb);
    });
    return !this.#needDrain;
  }

  end(cb?: Done): this {
    if (this.destroyed && !this.#finished) {
      if (cb) process.nextTick(cb, this.#error ?? new Error('the sink was destroyed before it finished'));
      return this;
    }
    if (this.#finished) {
      if (cb) process.nextTick(cb);
      return this;
    }
    (this.#enders ??= []).push(...(cb ? [cb] : []));
    this.#maybeFlush();
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#error = err;
    this.onDestroy();
    const gone = err ?? new Error('the sink was destroyed before it finished');
    for (const rec of this.#inFlight) {
      this.#pending -= rec.n;
      if (rec.cb) process.nextTick(rec.cb, gone);
    }
    this.#inFlight.clear();
    process.nextTick(() => {
      if (err) this.emit('error', err);
      this.emit('close');
    });
    if (!this.#finished) this.#callEnders(err ?? new Error('the sink was destroyed before it finished'));
    return this;
  }

  #taken(n: number, err: Error | null | undefined, cb: Done | undefined): void {
    this.#pending -= n;
    if (err) this.destroy(err);
    cb?.(err);
    if (this.#pending > 0 || this.destroyed) return;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
    this.#maybeFlush();
  }

  #maybeFlush(): void {
    if (!this.#enders || this.#pending > 0 || this.#flushing || this.destroyed) return;
    this.#flushing = true;
    this.flush((err) => {
      if (err) return void this.destroy(err);
      if (this.destroyed) return;
      this.#finished = true;
      this.destroyed = true;
      this.#callEnders(undefined);
      this.emit('finish');
      process.nextTick(() => this.emit('close'));
    });
  }

  #callEnders(err: Error | undefined): void {
    const enders = this.#enders ?? [];
    this.#enders = [];
    for (const cb of enders) process.nextTick(cb, err);
  }
}
