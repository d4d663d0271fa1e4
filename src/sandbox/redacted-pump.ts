import type { Readable, Writable } from 'node:stream';
import { IdleRelease, pushParts, type Redactor, type RedactorStream } from '../redact/index.js';

/** Write at most this much per write towards the child; smaller pieces are gathered first. */
export const BATCH = 256 * 1024;

/** Both ends of a reply body on its way to the child, as the pump needs them. */
export interface PumpEnds {
  /**
   * Bytes for the child, valid only during the call: the body may have been read into a buffer that the
   * next read overwrites (tls-relay.ts), and the redactor's output shares its memory. Copy or keep them.
   */
  take(part: Buffer): void;
  /** What was taken since the last flush, `size` bytes, is one write; false: wait for `drained`. */
  flush(size: number): boolean;
  drained(cb: () => void): void;
  end(): void;
  /** The child is gone: nothing more is written. */
  gone(): boolean;
  /** Stop and restart reading the source. */
  pause(): void;
  resume(): void;
  /** The redactor failed: abort both sides. */
  fail(): void;
}

/**
 * A long reply through the redactor to the child: what the redactor releases is handed to the ends at
 * once and written in batches of up to BATCH bytes (flushed at the latest on the next turn of the event
 * loop, so a slow stream is not held), with backpressure from the child's side; held bytes are let go
 * under the pause rule as in a child's output. Fed with `data` and `end`, so node's streams
 * (pipeRedacted) and the byte relay's body decoder (tls-relay.ts) share it. `data`'s chunk may be reused
 * by the caller once it returns: every redactor stream copies what it holds (RedactorStream.push).
 */
export class RedactedPump {
  private size = 0;
  private scheduled = false;
  private waiting = false;
  private readonly idle: IdleRelease;

  constructor(private readonly ends: PumpEnds, private readonly stream: RedactorStream) {
    this.idle = new IdleRelease(stream, (b) => this.emit(b), () => this.abort());
  }

  data(d: Buffer): void {
    try {
      for (const part of pushParts(this.stream, d)) this.emit(part);
      this.idle.after();
    } catch {
      this.abort();
    }
  }

  end(): void {
    this.idle.stop();
    try {
      this.emit(this.stream.end());
    } catch {
      return this.abort();
    }
    this.flush();
    this.ends.end();
  }

  /** The child went away: no timer may fire later. */
  stop(): void {
    this.idle.stop();
  }

  private abort(): void {
    this.idle.stop();
    this.ends.fail();
  }

  private emit(b: Buffer): void {
    if (b.length === 0 || this.ends.gone()) return;
    this.ends.take(b);
    this.size += b.length;
    if (this.size >= BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.size === 0 || this.ends.gone()) return;
    const size = this.size;
    this.size = 0;
    if (!this.ends.flush(size) && !this.waiting) {
      this.waiting = true;
      this.ends.pause();
      this.ends.drained(() => {
        this.waiting = false;
        this.ends.resume();
      });
    }
  }
}

/** A node stream through the pump to a node writable (the node-http path of tls-intercept.ts). */
export function pipeRedacted(src: Readable, dst: Writable, stream: RedactorStream): void {
  const fail = () => {
    src.destroy();
    dst.destroy();
  };
  // The source's chunks are its own (node's streams allocate each): the parts are kept until the flush.
  let parts: Buffer[] = [];
  const pump = new RedactedPump({
    take: (part) => parts.push(part),
    flush: (size) => {
      const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      return dst.write(out);
    },
    drained: (cb) => dst.once('drain', cb),
    end: () => dst.end(),
    gone: () => dst.destroyed,
    pause: () => src.pause(),
    resume: () => src.resume(),
    fail,
  }, stream);
  src.on('data', (d: Buffer) => pump.data(d));
  src.on('end', () => pump.end());
  src.on('error', () => {
    pump.stop();
    fail();
  });
  dst.on('close', () => {
    pump.stop();
    if (!src.readableEnded) src.destroy();
  });
}

/**
 * Redact a reply's header values (rawHeaders order, values at odd indexes) in one pass of the redactor
 * instead of one per header: joined with NUL, which no header value can contain. If a mask ever spanned a
 * separator the split would not line up, and each value is redacted on its own instead.
 */
export function redactHeaderValues(redactor: Redactor, raw: string[]): void {
  const values: string[] = [];
  for (let i = 1; i < raw.length; i += 2) values.push(raw[i]!);
  if (!values.length) return;
  const joined = redactor.redactStringCounted(values.join('\0'));
  if (joined.count === 0) return;
  const parts = joined.output.split('\0');
  for (let i = 1, j = 0; i < raw.length; i += 2, j++) raw[i] = parts.length === values.length ? parts[j]! : redactor.redactString(raw[i]!);
}
