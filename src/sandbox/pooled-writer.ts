import type { TLSSocket } from 'node:tls';

/** Pieces shorter than this are always joined: one TLS record for a head and its framing. */
const JOIN_BELOW = 4096;
/** The reused buffers' size: the reply pump's batch (redacted-pump.ts) and its chunk framing fit in one. */
export const POOLED = 256 * 1024 + 64;
const free: Buffer[] = [];
const FREE_MAX = 8;

/**
 * The byte relay's writes to one TLS socket (tls-relay.ts): one write in flight at a time, each one
 * buffer, which node's TLS socket encrypts where it lies. Node's own queue would join the pieces that
 * wait behind a write in flight into fresh memory for every write: a copy, and in a process that has
 * not yet grown its heap, a page fault every 4 KiB (~15 ms of the proxy's first 16 MiB reply). They
 * wait here instead, and are joined into one of a few buffers reused from write to write. `wipe`: a
 * buffer that held a request (with the real credentials swapped in) is zeroed before it is reused.
 */
export class PooledWriter {
  #queue: Buffer[] = [];
  #queued = 0;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  #ending: Buffer | string | undefined;
  #ended = false;

  constructor(
    private readonly s: TLSSocket,
    private readonly wipe: boolean,
    /** How far ahead of the socket the writer may be before write() says to wait. */
    private readonly ahead: number,
  ) {}

  /** Bytes handed over and not yet written to the socket's connection. */
  get pending(): number {
    return this.#queued + this.#inFlight;
  }

  get idle(): boolean {
    return this.pending === 0;
  }

  /** Queue `parts`; false: the writer is `ahead` bytes or more ahead, wait for onDrain. */
  write(parts: readonly Buffer[]): boolean {
    if (this.#ended || this.#ending !== undefined) return false;
    for (const p of parts) {
      if (p.length === 0) continue;
      this.#queue.push(p);
      this.#queued += p.length;
    }
    this.#next();
    return this.pending < this.ahead;
  }

  /** `cb` once the writer is back under half its lead (at once if it is). */
  onDrain(cb: () => void): void {
    if (this.pending < this.ahead / 2) return cb();
    this.#waiters.push(cb);
  }

  /** After what is queued: `last`, then the end of the socket. */
  end(last?: Buffer | string): void {
    if (this.#ended || this.#ending !== undefined) return;
    this.#ending = last ?? '';
    this.#next();
  }

  #next(): void {
    const s = this.s;
    if (this.#inFlight > 0 || s.destroyed) return;
    if (this.#queued === 0) {
      if (this.#ending !== undefined && !this.#ended) {
        this.#ended = true;
        if (s.writable) s.end(this.#ending);
      }
      return;
    }
    const first = this.#queue[0]!;
    let out: Buffer;
    let pooled: Buffer | undefined;
    if (this.#queue.length === 1 || first.length >= POOLED) {
      out = this.#queue.shift()!;
    } else {
      let size = 0;
      let n = 0;
      while (n < this.#queue.length && size + this.#queue[n]!.length <= POOLED) size += this.#queue[n++]!.length;
      if (n === 1) out = this.#queue.shift()!;
      else if (size < JOIN_BELOW) out = Buffer.concat(this.#queue.splice(0, n), size);
      else {
        pooled = free.pop() ?? Buffer.allocUnsafeSlow(POOLED);
        let at = 0;
        for (const p of this.#queue.splice(0, n)) at += p.copy(pooled, at);
        out = pooled.subarray(0, size);
      }
    }
    this.#queued -= out.length;
    this.#inFlight = out.length;
    s.write(out, () => {
      this.#inFlight = 0;
      if (pooled) {
        if (this.wipe) pooled.fill(0, 0, out.length);
        if (free.length < FREE_MAX) free.push(pooled);
      }
      this.#next();
      if (this.#waiters.length && this.pending < this.ahead / 2) for (const cb of this.#waiters.splice(0)) cb();
    });
  }
}
