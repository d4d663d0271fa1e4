import type { TLSSocket } from 'node:tls';
import { normalHost } from './egress-rules.js';
import type { Redactor } from '../redact/index.js';
import { mergeCounts, type Counted, type PlaceholderSecret, type Substituter } from '../placeholder/substitute.js';
import { ChunkedDecoder, FieldCache, parseRequestHead, parseResponseHead, type Field, type RequestHead, type ResponseHead } from './http1.js';
import type { EgressRecord, ProxyTarget } from './proxy.js';
import { RedactedPump } from './redacted-pump.js';
import { badFraming, misdirected, refusalBytes, upstreamFailed, wrongHost, type Refusal } from './tls-refusals.js';
import type { UpstreamPool } from './upstream-pool.js';
import { borrowReads, RECORD_PLAINTEXT } from './borrowed-reads.js';
import { PooledWriter } from './pooled-writer.js';

/**
 * The placeholder proxy's fast path: after TLS termination, requests that need only header, Basic or
 * query substitution are relayed as bytes on the two sockets instead of through node's http server and
 * client (about 1 ms per request on loopback, most of the proxy's cost for small requests). Only the head
 * is parsed (strictly, http1.ts); bodies are streamed through with their framing checked and counted.
 * One request at a time per connection: a pipelined request waits in the buffer until the reply before
 * it is complete. Replies pass the run's redactor, headers and body; since a mask is not as long as what
 * it hides, a body the redactor sees in pieces goes to the child chunked, a small one whole with its new
 * length. Body substitution and SigV4 need the whole request and keep node's path (tls-intercept.ts).
 *
 * Both sockets read into one buffer each (the child's through borrowed-reads.ts, the service's through
 * upstream-pool.ts): what the relay keeps past a read it copies, and a body is copied once, straight into
 * the buffer its write to the other side goes out from (PooledWriter.copy).
 */
export interface RelayDeps {
  sub: Substituter;
  redactor: Redactor;
  pool: UpstreamPool;
  record: (r: EgressRecord) => EgressRecord;
  counted: (host: string, counts: readonly Counted[]) => void;
  /** false: the child's bytes come as 'data' events, as on a node release borrowReads cannot serve. */
  borrow?: boolean;
}

/** Replies up to this size (with a Content-Length) are redacted whole and sent in one write. */
export const SMALL_REPLY = 1024 * 1024;
/** Hop-by-hop: addressed to the proxy, not passed on in either direction. */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/**
 * A streamed body may be this far ahead of its reader before its source is paused (either way: a reply
 * ahead of the child, an upload ahead of the service). Pausing at node's 16 KiB mark stalled the source
 * between writes: the 16 MiB bench reply waited two thirds of its time, the upload a third.
 */
const AHEAD = 1024 * 1024;
/** Held from the child while the upstream connection is still being made. */
const QUEUE_MAX = 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);
/** Requests that may be sent again when a kept connection turns out to be closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CLOSE_LINE = 'Connection: close\r\n';
const NO_COUNTS: readonly Counted[] = Object.freeze([]);
/** A request header line as it goes to the service (undefined: not passed on), and the swaps in it. */
interface UpLine {
  line: string | undefined;
  counts: readonly Counted[];
}
/** A reply header line as it goes to the child, or DROPPED. */
type DownLine = string;
const DROPPED: DownLine = '';
const CRLF = Buffer.from('\r\n', 'latin1');

interface Exchange {
  head: RequestHead<UpLine>;
  counts: readonly Counted[];
  /** Made at the first body piece: most requests have none. */
  scan: ((chunk: Buffer) => PlaceholderSecret | undefined) | undefined;
  /** The request as first written, kept while a reused connection may have died under it (no body). */
  retry: Buffer | undefined;
  left: number;
  chunks: ChunkedDecoder | undefined;
  /** The whole request is with the upstream. */
  sent: boolean;
  closeAfter: boolean;
  /** A reply head not yet complete (a copy: what the service sends is read into one reused buffer). */
  rbuf: Buffer;
  reply: ResponseHead<DownLine> | undefined;
  rleft: number;
  rchunks: ChunkedDecoder | undefined;
  /** A small reply's body, filled to `wholeAt`. */
  whole: Buffer | undefined;
  wholeAt: number;
  wholeHead: string;
  pump: RedactedPump | undefined;
  /** The reply head, written right before the first piece of the body. */
  pendingHead: Buffer | undefined;
  /** Anything of the reply reached the child. */
  started: boolean;
  replied: boolean;
  /** The upstream sent more than the reply: its connection is not reused. */
  dirty: boolean;
}

export function relay(client: TLSSocket, t: ProxyTarget, d: RelayDeps): void {
  new Relay(client, t, d);
}

class Relay {
  private inBuf: Buffer = EMPTY;
  private phase: 'head' | 'body' | 'wait' | 'closed' = 'head';
  private ex: Exchange | undefined;
  private up: TLSSocket | undefined;
  private upW: PooledWriter | undefined;
  private readonly out: PooledWriter;
  private upReused = false;
  private connecting = false;
  private upOut: Buffer[] = [];
  private upOutSize = 0;
  private upWaiting = false;
  /** Body bytes went into upW's open batch since the last flushUp. */
  private upCopied = false;
  private detachUp: (() => void) | undefined;
  private ended = false;
  /** The last Host header checked against the target: a connection's requests repeat it. */
  private hostOk = '';
  private readonly borrowed: boolean;
  /** Each direction's header lines, parsed and turned into what goes on once per connection (http1.ts). */
  private readonly requestLines = new FieldCache<UpLine>();
  private readonly replyLines = new FieldCache<DownLine>();
  /** The last reply's reason phrase, and it redacted. */
  private reason = '';
  private reasonOut = '';

  constructor(private readonly client: TLSSocket, private readonly t: ProxyTarget, private readonly d: RelayDeps) {
    this.out = new PooledWriter(client, false, AHEAD);
    this.borrowed = d.borrow !== false && borrowReads(client, RECORD_PLAINTEXT, (view) => this.fromClient(view));
    if (!this.borrowed) client.on('data', (b: Buffer) => this.fromClient(b));
    // The child may close its side after its last request (the socket allows half-open): the reply still goes out.
    client.on('end', () => {
      this.ended = true;
      if (this.phase === 'head' || this.phase === 'body') this.close();
    });
    client.on('close', () => this.clientGone());
    // The service's connection is made now, while the child finishes its handshake with the proxy and
    // writes its first request, as the allow-list tunnel connects on CONNECT: not after that request.
    this.ensureUp();
  }

  private fromClient(b: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'body') this.body(b);
    else {
      this.inBuf = this.inBuf.length ? Buffer.concat([this.inBuf, b]) : b;
      if (this.phase === 'head') this.next();
      // A pipelined request waits in the buffer for the reply before it; a flood of them waits in the socket.
      else if (this.inBuf.length > QUEUE_MAX) this.client.pause();
    }
    this.flushUp();
    // What waits for the next read (a head still coming, the next request) must not lie in the buffer
    // that read overwrites: copied, as fromUp copies a reply head.
    if (this.borrowed && this.inBuf.length && this.inBuf.buffer === b.buffer) this.inBuf = Buffer.from(this.inBuf);
  }

  /** Read the requests in the buffer, one at a time. */
  private next(): void {
    while (this.phase === 'head' && this.inBuf.length) {
      const r = parseRequestHead(this.inBuf, this.requestLines);
      if (!r) return;
      if (!r.ok) return this.refuse(badFraming(this.d.record, this.t, r.why));
      this.inBuf = this.inBuf.subarray(r.head.size);
      this.begin(r.head);
    }
  }

  private begin(head: RequestHead<UpLine>): void {
    const t = this.t;
    if (head.upgrade) {
      this.out.end(Buffer.from('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1'));
      return this.close();
    }
    // Connection's tokens name headers of this hop only (keep-alive, the usual one, is hop-by-hop anyway).
    const named = head.connection.length > 0 && head.connection.some((c) => c !== 'keep-alive');
    let lines = '';
    let counts: readonly Counted[] = NO_COUNTS;
    for (const f of head.fields) {
      let up = f.derived;
      if (up === undefined) {
        const made = this.upLine(f);
        if (!made.ok) return this.refuse(made.refusal);
        up = f.derived = made.up;
      }
      if (up.line === undefined || (named && head.connection.includes(f.lower))) continue;
      lines += up.line;
      if (up.counts.length) counts = counts.length ? mergeCounts(counts, up.counts) : up.counts;
    }
    const path = this.d.sub.target(head.target, t.host, t.port);
    if (!path.ok) return this.refuse(wrongHost(this.d.record, t, path.secret, path.surface));
    if (path.counts.length) counts = mergeCounts(counts, path.counts);
    if (counts.length && head.host && head.host !== this.hostOk) {
      if (misdirectedHost(head.host, t)) return this.refuse(misdirected(this.d.record, t, head.host));
      this.hostOk = head.host;
    }
    // The reply must be readable by the redactor: no compression on the way back.
    const host = head.host ? '' : `Host: ${authority(t)}\r\n`;
    const te = head.framing.kind === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : '';
    const bytes = Buffer.from(`${head.method} ${path.value} HTTP/1.1\r\n${lines}Accept-Encoding: identity\r\n${host}${te}\r\n`, 'latin1');
    t.rec.intercepted = true;
    t.rec.bytesOut += bytes.length;
    const ex: Exchange = {
      head, counts, scan: undefined, retry: undefined,
      left: head.framing.kind === 'length' ? head.framing.length : 0,
      chunks: head.framing.kind === 'chunked' ? new ChunkedDecoder() : undefined,
      sent: false, closeAfter: head.close || head.minor === 0,
      rbuf: EMPTY, reply: undefined, rleft: 0, rchunks: undefined, whole: undefined, wholeAt: 0, wholeHead: '', pump: undefined,
      pendingHead: undefined, started: false, replied: false, dirty: false,
    };
    this.ex = ex;
    this.phase = 'body';
    this.toUp(bytes);
    if (head.framing.kind === 'none') {
      if (IDEMPOTENT.has(head.method)) ex.retry = bytes;
      this.ensureUp();
      return this.requestDone();
    }
    const rest = this.inBuf;
    this.inBuf = EMPTY;
    if (rest.length) this.body(rest);
    // After the body that is already here, so head and body leave in one write.
    this.ensureUp();
  }

  /**
   * What one request header line becomes towards the service: its sentinels swapped (sub.headers), or
   * dropped (hop-by-hop, Accept-Encoding); or why the request is refused. Kept with the line for the
   * rest of the connection, since it follows from the line's text and this connection's host alone; a
   * refusal is not kept, so the same line is refused again.
   */
  private upLine(f: Field<UpLine>): { ok: true; up: UpLine } | { ok: false; refusal: Refusal } {
    const t = this.t;
    const h = this.d.sub.headers([f.name, f.value], t.host, t.port);
    if (!h.ok) return { ok: false, refusal: wrongHost(this.d.record, t, h.secret, h.surface) };
    const v = h.value[1]!;
    // A value with a line break would end the header early towards the service. The parser let no such
    // byte through, so only a value the swap changed can hold one.
    if (v !== f.value && /[\0\r\n]/.test(v)) return { ok: false, refusal: badFraming(this.d.record, t, `a value that cannot go in the ${f.name} header`) };
    if (f.lower === 'accept-encoding' || HOP.has(f.lower)) return { ok: true, up: { line: undefined, counts: NO_COUNTS } };
    return { ok: true, up: { line: `${f.name}: ${v}\r\n`, counts: h.counts } };
  }

  /** Request body bytes; what follows the body is kept for the next request. */
  private body(b: Buffer): void {
    const ex = this.ex!;
    if (ex.chunks) {
      const used = ex.chunks.push(b, (piece) => this.forward(piece, true));
      if (this.phase !== 'body') return;
      if (typeof used !== 'number') return this.midBody(used.why);
      if (!ex.chunks.done) return;
      this.toUp(LAST_CHUNK);
      this.inBuf = b.subarray(used);
    } else {
      const n = Math.min(ex.left, b.length);
      if (!this.forward(b.subarray(0, n), false)) return;
      ex.left -= n;
      if (ex.left > 0) return;
      this.inBuf = b.subarray(n);
    }
    this.requestDone();
  }

  /** One piece of a request body on to the service, unless it carries another host's placeholder. */
  private forward(piece: Buffer, chunked: boolean): boolean {
    if (this.phase !== 'body' || piece.length === 0) return this.phase === 'body';
    const ex = this.ex!;
    ex.scan ??= this.d.sub.scanner(this.t.host, this.t.port);
    const hit = ex.scan(piece);
    if (hit) {
      this.dropUp();
      this.refuse(wrongHost(this.d.record, this.t, hit, 'body'));
      return false;
    }
    this.t.rec.bytesOut += piece.length;
    // Straight into the writer's open batch, which leaves when the write before it is done (flushUp);
    // behind bytes still queued for a connection being made, a copy waits with them.
    if (this.borrowed && this.upW && this.upOutSize === 0) {
      this.upW.copy(piece, chunked);
      this.upCopied = true;
      return true;
    }
    const own = this.borrowed ? Buffer.from(piece) : piece;
    if (chunked) this.toUp(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), own, CRLF);
    else this.toUp(own);
    return true;
  }

  /** A chunked body that breaks its framing half-way: the service never gets a complete request. */
  private midBody(why: string): void {
    this.dropUp();
    if (this.ex?.started) return this.close(true);
    this.refuse(badFraming(this.d.record, this.t, why));
  }

  private requestDone(): void {
    const ex = this.ex!;
    ex.sent = true;
    this.phase = 'wait';
    if (ex.replied) this.exchangeDone();
  }

  // ---- upstream ----

  private toUp(...bufs: Buffer[]): void {
    for (const b of bufs) {
      this.upOut.push(b);
      this.upOutSize += b.length;
    }
  }

  private flushUp(): void {
    const up = this.up;
    if (this.upCopied) {
      this.upCopied = false;
      if (this.upW?.send() === false) this.waitUp();
    }
    if (!this.upOutSize) return;
    if (!up) {
      if (this.upOutSize > QUEUE_MAX && this.phase === 'body') this.client.pause();
      return;
    }
    const parts = this.upOut;
    this.upOut = [];
    this.upOutSize = 0;
    if (!this.upW!.write(parts)) this.waitUp();
  }

  private waitUp(): void {
    if (!this.upWaiting) {
      this.upWaiting = true;
      if (this.phase === 'body') this.client.pause();
      this.upW!.onDrain(() => {
        this.upWaiting = false;
        if (this.phase === 'body') this.client.resume();
      });
    }
  }

  private ensureUp(): void {
    if (this.phase !== 'closed' && !this.up && !this.connecting) this.connect();
  }

  private connect(): void {
    this.connecting = true;
    this.d.pool.get(this.t, (err, s, reused) => {
      this.connecting = false;
      if (err || !s) {
        this.upOut = [];
        this.upOutSize = 0;
        if (this.phase === 'closed' || !this.ex) return;
        if (this.ex.started) return this.close(true);
        return this.refuse(upstreamFailed(this.t, this.t.rec, err ?? new Error('no connection')));
      }
      if (this.phase === 'closed') return this.d.pool.release(this.t, s);
      // Made before the first request (at the tunnel's opening), it waits idle as a kept one does, and the
      // service may close it just as that request goes out: it gets a kept one's retry.
      this.bind(s, reused || !this.ex);
      this.flushUp();
      if (this.phase === 'body' && !this.upWaiting) this.client.resume();
    });
  }

  private bind(s: TLSSocket, reused: boolean): void {
    this.up = s;
    this.upW = new PooledWriter(s, true, AHEAD);
    this.upReused = reused;
    const end = () => this.upEnded(false);
    const fail = () => this.upEnded(true);
    this.d.pool.read(s, (view) => this.fromUp(view));
    s.on('end', end).on('close', fail).on('error', fail);
    this.detachUp = () => {
      this.d.pool.read(s, undefined);
      s.off('end', end).off('close', fail).off('error', fail);
    };
  }

  private unbind(): TLSSocket | undefined {
    const s = this.up;
    this.detachUp?.();
    this.detachUp = undefined;
    this.up = undefined;
    this.upW = undefined;
    this.upWaiting = false;
    return s;
  }

  private dropUp(): void {
    this.unbind()?.destroy();
  }

  /** `b` lies in the connection's read buffer: whatever is kept past this call is copied. */
  private fromUp(b: Buffer): void {
    const ex = this.ex;
    // Nothing is asked, or the reply is complete: the service is out of step; forget this connection.
    if (!ex || ex.replied) return this.dropUp();
    this.t.rec.bytesIn += b.length;
    ex.retry = undefined;
    if (ex.reply) this.replyBody(b);
    else {
      ex.rbuf = ex.rbuf.length ? Buffer.concat([ex.rbuf, b]) : b;
      this.replyHead(ex);
      if (this.ex === ex && !ex.reply && ex.rbuf.buffer === b.buffer) ex.rbuf = Buffer.from(ex.rbuf);
    }
  }

  private upEnded(failed: boolean): void {
    const ex = this.ex;
    const reused = this.upReused;
    this.unbind();
    if (!ex || ex.replied || this.phase === 'closed') return;
    if (!failed && ex.reply?.framing.kind === 'close') return this.replyEnd(ex);
    // A kept connection the service closed as the request went out: once more on a new one.
    if (reused && ex.retry && !ex.reply && ex.rbuf.length === 0) {
      const again = ex.retry;
      ex.retry = undefined;
      this.upOut = [];
      this.upOutSize = 0;
      this.toUp(again);
      return this.connect();
    }
    this.broken(ex, 'the connection closed before the reply was complete', 'ECONNRESET');
  }

  /** The service's reply cannot be passed on. */
  private broken(ex: Exchange, why: string, code: string): void {
    this.dropUp();
    if (ex.started) return this.close(true);
    this.t.rec.reason = `upstream reply unusable: ${why}`;
    this.refuse(upstreamFailed(this.t, { ...this.t.rec }, Object.assign(new Error(why), { code })));
  }

  private replyHead(ex: Exchange): void {
    for (;;) {
      const r = parseResponseHead(ex.rbuf, ex.head.method, this.replyLines);
      if (!r) return;
      if (!r.ok) return this.broken(ex, r.why, 'EPROTO');
      const head = r.head;
      const rest = ex.rbuf.subarray(head.size);
      if (head.status === 101) return this.broken(ex, 'an upgrade nobody asked for', 'EPROTO');
      if (head.status < 200) {
        // 100 Continue and the like, for the child that asked (HTTP/1.0 clients do not know them).
        if (ex.head.minor === 1) this.toClient(Buffer.from(`${this.replyLead(head, '')}\r\n`, 'latin1'));
        ex.rbuf = rest;
        continue;
      }
      ex.reply = head;
      ex.rbuf = EMPTY;
      this.d.counted(this.t.host, ex.counts);
      return this.replyStart(ex, head, rest);
    }
  }

  /** The status line and the reply's own headers, redacted, hop-by-hop ones dropped, then `extra` (whole lines); no blank line. */
  private replyLead(head: ResponseHead<DownLine>, extra: string, keepLength = false): string {
    const named = head.connection.length > 0 && head.connection.some((c) => c !== 'keep-alive');
    let lines = '';
    for (const f of head.fields) {
      const down = (f.derived ??= this.downLine(f));
      if (down === DROPPED || (!keepLength && f.lower === 'content-length') || (named && head.connection.includes(f.lower))) continue;
      lines += down;
    }
    if (head.reason !== this.reason) {
      this.reason = head.reason;
      this.reasonOut = head.reason ? ` ${this.d.redactor.redactString(head.reason)}` : '';
    }
    return `HTTP/1.1 ${head.status}${this.reasonOut}\r\n${lines}${extra}`;
  }

  /** One reply header line as the child gets it (its value redacted), or DROPPED: kept with the line, as upLine is. */
  private downLine(f: Field<DownLine>): DownLine {
    return HOP.has(f.lower) ? DROPPED : `${f.name}: ${this.d.redactor.redactString(f.value)}\r\n`;
  }

  private replyStart(ex: Exchange, head: ResponseHead<DownLine>, rest: Buffer): void {
    const f = head.framing;
    const closing = ex.closeAfter || !ex.sent ? CLOSE_LINE : '';
    if (f.kind === 'none') {
      this.toClient(Buffer.from(`${this.replyLead(head, closing, true)}\r\n`, 'latin1'));
      ex.dirty = rest.length > 0;
      return this.replyDone(ex);
    }
    if (f.kind === 'length' && f.length <= SMALL_REPLY) {
      const lead = this.replyLead(head, closing);
      // Most often the whole body came with the head: redacted where it lies, copied out by the write.
      if (rest.length >= f.length) {
        ex.dirty = rest.length > f.length;
        return this.sendWhole(ex, lead, rest.subarray(0, f.length));
      }
      ex.whole = Buffer.allocUnsafe(f.length);
      ex.rleft = f.length;
      ex.wholeHead = lead;
    } else {
      // Streamed through the redactor: chunked to the child, or to the end of the connection for HTTP/1.0.
      if (ex.head.minor === 0) ex.closeAfter = true;
      ex.pendingHead = Buffer.from(`${this.replyLead(head, ex.head.minor === 1 ? `Transfer-Encoding: chunked\r\n${closing}` : CLOSE_LINE)}\r\n`, 'latin1');
      ex.rleft = f.kind === 'length' ? f.length : 0;
      ex.rchunks = f.kind === 'chunked' ? new ChunkedDecoder() : undefined;
      const chunked = ex.head.minor === 1;
      ex.pump = new RedactedPump({
        // Copied into the writer's batch at once (the body lies in the read buffer), framed at the flush.
        take: (part) => {
          if (ex.pendingHead) this.toClient();
          if (!this.client.destroyed) this.out.copy(part, chunked);
        },
        // Paused only once the child is well behind (AHEAD).
        flush: () => this.out.seal(),
        drained: (cb) => this.out.onDrain(cb),
        end: () => {
          if (chunked || ex.pendingHead) this.toClient(...(chunked ? [LAST_CHUNK] : []));
          this.replyDone(ex);
        },
        gone: () => this.client.destroyed,
        pause: () => this.up?.pause(),
        resume: () => this.up?.resume(),
        fail: () => {
          this.dropUp();
          this.close(true);
        },
      }, this.d.redactor.stream());
    }
    if (rest.length) this.replyBody(rest);
  }

  private replyBody(b: Buffer): void {
    const ex = this.ex!;
    const f = ex.reply!.framing;
    if (f.kind === 'close') return this.deliver(ex, b);
    if (ex.rchunks) {
      const used = ex.rchunks.push(b, (piece) => this.deliver(ex, piece));
      if (typeof used !== 'number') return this.broken(ex, used.why, 'EPROTO');
      if (!ex.rchunks.done) return;
      ex.dirty = used < b.length;
    } else {
      const n = Math.min(ex.rleft, b.length);
      this.deliver(ex, n === b.length ? b : b.subarray(0, n));
      ex.rleft -= n;
      if (ex.rleft > 0) return;
      ex.dirty = n < b.length;
    }
    this.replyEnd(ex);
  }

  private deliver(ex: Exchange, piece: Buffer): void {
    if (piece.length === 0) return;
    if (ex.whole) ex.wholeAt += piece.copy(ex.whole, ex.wholeAt);
    else ex.pump!.data(piece);
  }

  private replyEnd(ex: Exchange): void {
    if (!ex.whole) return ex.pump!.end();
    this.sendWhole(ex, ex.wholeHead, ex.whole.subarray(0, ex.wholeAt));
  }

  /** A small reply, its body redacted whole, after `lead`. */
  private sendWhole(ex: Exchange, lead: string, body: Buffer): void {
    const masked = this.d.redactor.redactBuffer(body).output;
    // Head and body in one write: no small-segment stall, and the length the child reads is the masked one.
    const head = `${lead}Content-Length: ${masked.length}\r\n\r\n`;
    const out = Buffer.allocUnsafe(head.length + masked.length);
    out.write(head, 0, 'latin1');
    masked.copy(out, head.length);
    this.toClient(out);
    this.replyDone(ex);
  }

  private replyDone(ex: Exchange): void {
    ex.replied = true;
    if (ex.reply?.close || ex.dirty || !ex.sent) this.dropUp();
    // The connection has carried a request now: the service may drop it while idle, so the next may be retried.
    else this.upReused = true;
    if (!ex.sent || ex.closeAfter) return this.close();
    if (this.phase === 'wait') this.exchangeDone();
  }

  /** Both halves of the exchange are through: on to the next request on this connection. */
  private exchangeDone(): void {
    this.ex = undefined;
    this.phase = 'head';
    if (this.client.isPaused()) this.client.resume();
    this.next();
    // Nothing more can come: a request cut off by the end is not one.
    if (this.ended && this.phase === 'head') this.close();
    this.flushUp();
  }

  // ---- the child ----

  private toClient(...parts: Buffer[]): boolean {
    const ex = this.ex;
    if (ex?.pendingHead) {
      parts.unshift(ex.pendingHead);
      ex.pendingHead = undefined;
    }
    if (ex) ex.started = true;
    if (this.client.destroyed || !this.client.writable) return false;
    return this.out.write(parts);
  }

  private refuse(r: Refusal): void {
    if (this.ex && !this.ex.sent) this.dropUp();
    this.out.end(refusalBytes(r));
    this.close();
  }

  /** No more requests on this connection; `now`: cut it (a reply already under way cannot be finished). */
  private close(now = false): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.ex?.pump?.stop();
    this.parkUp();
    if (now) this.client.destroy();
    else this.out.end();
    // Read on and drop what still comes, so the refusal is not lost to a reset.
    this.client.resume();
  }

  private clientGone(): void {
    this.close();
    this.dropUp();
  }

  /** A connection between exchanges is clean and waits for the child's next one; one mid-exchange is not. */
  private parkUp(): void {
    const ex = this.ex;
    const clean = (!ex || (ex.sent && ex.replied)) && !this.upOutSize && (this.upW?.idle ?? true);
    const s = this.unbind();
    if (s && clean) this.d.pool.release(this.t, s);
    else s?.destroy();
  }
}

/**
 * A request that carries a real value must go to the host the proxy verified: the Host header naming
 * another name (another site on the same CDN address, domain fronting) would take the value there.
 */
export function misdirectedHost(host: string, t: ProxyTarget): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return true;
  const port = m[2] === undefined ? 443 : Number(m[2]);
  return port !== t.port || normalHost(m[1]!) !== t.host;
}

function authority(t: ProxyTarget): string {
  const h = t.host.includes(':') ? `[${t.host}]` : t.host;
  return t.port === 443 ? h : `${h}:${t.port}`;
}
