import type { TLSSocket } from 'node:tls';

/** Pieces shorter than this are always joined: one TLS record for a head and its framing. */
const JOIN_BELOW = 4096;
/** The reused buffers' size: the reply pump's batch (redacted-pump.ts) and its chunk framing fit in one. */
export const POOLED = 256 * 1024 + 64;
/** Kept in front of a copied batch for its chunk size line (`ffffffff\r\n` at most), and behind it for CRLF. */
const HEAD_ROOM = 10;
const TAIL_ROOM = 2;
const free: Buffer[] = [];
const FREE_MAX = 8;

/** What waits to be written: a caller's buffer, or a pooled one (joined or copied into) to reuse after. */
interface Queued {
  b: Buffer;
  pooled: Buffer | undefined;
}

/**
 * The byte relay's writes to one TLS socket (tls-relay.ts): one write in flight at a time, each one
 * buffer, which node's TLS socket encrypts where it lies. Node's own queue would join the pieces that
 * wait behind a write in flight into fresh memory for every write: a copy, and in a process that has
 * not yet grown its heap, a page fault every 4 KiB (~15 ms of the proxy's first 16 MiB reply). They
 * wait here instead, and are joined into one of a few buffers reused from write to write. `wipe`: a
 * buffer that held a request (with the real credentials swapped in) is zeroed before it is reused.
 *
 * `copy` takes bytes the caller is about to overwrite (a reply body read into the upstream socket's one
 * read buffer) straight into a pooled buffer, framed as one HTTP chunk when the batch is sealed: the
 * one copy a byte of a streamed reply makes between the two TLS sockets. `send` does the same for an
 * upload read into the child socket's one buffer: each read is copied into the open batch, which goes
 * out whenever no write is in flight.
 */
export class PooledWriter {
  #queue: Queued[] = [];
  #queued = 0;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  #ending: Buffer | string | undefined;
  #ended = false;
  /** The batch `copy` fills: bytes from HEAD_ROOM to #openAt. */
  #open: Buffer | undefined;
  #openAt = 0;
  #openChunked = false;

  constructor(
    private readonly s: TLSSocket,
    private readonly wipe: boolean,
    /** How far ahead of the socket the writer may be before write() says to wait. */
    private readonly ahead: number,
  ) {}

  /** Bytes handed over and not yet written to the socket's connection. */
  get pending(): number {
    return this.#queued + this.#inFlight + (this.#open ? this.#openAt - HEAD_ROOM : 0);
  }

  get idle(): boolean {
    return this.pending === 0;
  }

  /** Queue `parts` (which stay the caller's and unchanged until written); false: wait for onDrain. */
  write(parts: readonly Buffer[]): boolean {
    if (this.#ended || this.#ending !== undefined) return false;
    this.#seal();
    for (const p of parts) {
      if (p.length === 0) continue;
      this.#queue.push({ b: p, pooled: undefined });
      this.#queued += p.length;
    }
    this.#next();
    return this.pending < this.ahead;
  }

  /**
   * Copy `part` into the open batch now (its memory is free again when this returns); `chunked`: the
   * batch goes out as one HTTP/1.1 chunk. Nothing is written before `seal` (or a full batch).
   */
  copy(part: Buffer, chunked: boolean): void {
    if (this.#ended || this.#ending !== undefined) return;
    if (this.#open && this.#openChunked !== chunked) this.#seal();
    for (let at = 0; at < part.length;) {
      if (this.#open === undefined) {
        this.#open = free.pop() ?? Buffer.allocUnsafeSlow(POOLED);
        this.#openAt = HEAD_ROOM;
        this.#openChunked = chunked;
      }
      const n = part.copy(this.#open, this.#openAt, at, Math.min(part.length, at + POOLED - TAIL_ROOM - this.#openAt));
      this.#openAt += n;
      at += n;
      if (this.#openAt === POOLED - TAIL_ROOM) this.#seal();
    }
  }

  /**
   * What `copy` took goes out now if no write is in flight; else it waits, and grows with further copies,
   * until that write is done. False: the writer is `ahead` bytes ahead, wait for onDrain.
   */
  send(): boolean {
    if (this.#inFlight === 0) this.#seal();
    this.#next();
    return this.pending < this.ahead;
  }

  /** What `copy` took goes out as one write; false: the writer is `ahead` bytes ahead, wait for onDrain. */
  seal(): boolean {
    this.#seal();
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
    this.#seal();
    this.#ending = last ?? '';
    this.#next();
  }

  /** The open batch into the queue, framed: its chunk size line right before the bytes, CRLF after. */
  #seal(): void {
    const buf = this.#open;
    if (buf === undefined) return;
    this.#open = undefined;
    const size = this.#openAt - HEAD_ROOM;
    if (size === 0) return void (free.length < FREE_MAX && free.push(buf));
    let start = HEAD_ROOM;
    let end = this.#openAt;
    if (this.#openChunked) {
      const line = `${size.toString(16)}\r\n`;
      start -= line.length;
      buf.write(line, start, 'latin1');
      buf[end++] = 0x0d;
      buf[end++] = 0x0a;
    }
    const b = buf.subarray(start, end);
    this.#queue.push({ b, pooled: buf });
    this.#queued += b.length;
  }

  #next(): void {
    const s = this.s;
    if (this.#inFlight > 0 || s.destroyed) return;
    // What `copy` gathered behind the write just done (send) is next.
    if (this.#queued === 0) this.#seal();
    if (this.#queued === 0) {
      if (this.#ending !== undefined && !this.#ended) {
        this.#ended = true;
        if (s.writable) s.end(this.#ending);
      }
      return;
    }
    const first = this.#queue[0]!;
    let out: Buffer;
    let pooled = first.pooled;
    // A pooled buffer goes as it is; so does a caller's buffer alone or too large to join.
    let n = 1;
    let size = first.b.length;
    if (pooled === undefined && size < POOLED) {
      while (n < this.#queue.length && this.#queue[n]!.pooled === undefined && size + this.#queue[n]!.b.length <= POOLED) size += this.#queue[n++]!.b.length;
    }
    if (n === 1) out = this.#queue.shift()!.b;
    else if (size < JOIN_BELOW) out = Buffer.concat(this.#queue.splice(0, n).map((q) => q.b), size);
    else {
      pooled = free.pop() ?? Buffer.allocUnsafeSlow(POOLED);
      let at = 0;
      for (const q of this.#queue.splice(0, n)) at += q.b.copy(pooled, at);
      out = pooled.subarray(0, size);
    }
    this.#queued -= out.length;
    this.#inFlight = out.length;
    s.write(out, () => {
      this.#inFlight = 0;
      if (pooled) {
        if (this.wipe) pooled.fill(0, 0, out.byteOffset - pooled.byteOffset + out.length);
        if (free.length < FREE_MAX) free.push(pooled);
      }
      this.#next();
      if (this.#waiters.length && this.pending < this.ahead / 2) for (const cb of this.#waiters.splice(0)) cb();
    });
  }
}
