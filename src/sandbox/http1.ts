/**
 * Strict HTTP/1.1 message framing for the placeholder relay (tls-relay.ts), which forwards requests as
 * bytes instead of through node's server and client. A proxy that reads where a request ends differently
 * from the origin behind it lets a second request hide inside the first (request smuggling), and here the
 * hidden one would leave with a real credential in it. So every request head that could be read two ways
 * is refused, not repaired: Content-Length together with Transfer-Encoding, more than one Content-Length,
 * a Transfer-Encoding other than `chunked`, obs-fold, bare CR or LF, NUL, a head over MAX_HEAD. Replies
 * come from the service's own host and are re-framed towards the child anyway, so they are read with the
 * RFC 9112 rules rather than refused for what an origin may legally send.
 */
export const MAX_HEAD = 64 * 1024;
/** A chunk-size line or a trailer section longer than this is not a real client's. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface RequestHead<D = unknown> {
  method: string;
  target: string;
  /** HTTP/1.x minor version. */
  minor: 0 | 1;
  framing: Framing;
  /** The child does not want the connection kept (Connection: close, or HTTP/1.0). */
  close: boolean;
  /** Connection tokens, lower case: each names a header for this hop only. */
  connection: string[];
  upgrade: boolean;
  host: string;
  /** Bytes of the head, including the blank line (and any empty lines before it). */
  size: number;
  /** The header lines in order, names in their own case (from the connection's FieldCache when one was given). */
  fields: Field<D>[];
}

export interface ResponseHead<D = unknown> {
  status: number;
  reason: string;
  minor: 0 | 1;
  framing: Framing;
  /** The origin will not take another request on this connection. */
  close: boolean;
  connection: string[];
  size: number;
  fields: Field<D>[];
}

/** undefined: the head is not complete yet. */
export type Parsed<T> = { ok: true; head: T } | { ok: false; why: string } | undefined;

// A field value: visible characters, obs-text, SP and HT inside; no other control character.
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\0-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
const BAD_BYTES_DONE = /\0|(?<!\r)\n|\r(?!\n)/;
// While the head is incomplete, a CR at the very end may still get its LF.
const BAD_BYTES_SO_FAR = /\0|(?<!\r)\n|\r(?!\n|$)/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

const BAD_BYTES = 'a bare CR, LF or NUL in the head';
const DIGITS = /^\d{1,15}$/;
// Shared: framings are never changed after parsing.
const NO_BODY: Framing = Object.freeze({ kind: 'none' });
const CHUNKED: Framing = Object.freeze({ kind: 'chunked' });
const TO_CLOSE: Framing = Object.freeze({ kind: 'close' });

/** The head's text and lines, or why it is refused; `skip` leading empty lines are allowed (RFC 9112 §2.2). */
function splitHead(buf: Buffer, skipEmpty: boolean): { text: string; lines: string[]; size: number } | { why: string } | undefined {
  let start = 0;
  if (skipEmpty) while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  // As text at once, up to the longest head and its blank line: one copy, and the search is a string's.
  const seen = buf.toString('latin1', start, Math.min(buf.length, start + MAX_HEAD + 4));
  const end = seen.indexOf('\r\n\r\n');
  if (end < 0) {
    if (BAD_BYTES_SO_FAR.test(seen)) return { why: BAD_BYTES };
    if (buf.length - start > MAX_HEAD) return { why: `a head longer than ${MAX_HEAD} bytes` };
    return undefined;
  }
  // No scan for bare CR, LF or NUL here: every line is matched against a pattern that admits none of
  // them (start line, FIELD), so a complete head that parses has none; refused() names them first.
  const text = seen.slice(0, end);
  return { text, lines: text.split('\r\n'), size: start + end + 4 };
}

/** A complete head is refused: a bare CR, LF or NUL anywhere in it is named before what it broke. */
function refused(text: string, why: string): { ok: false; why: string } {
  return { ok: false, why: BAD_BYTES_DONE.test(text) ? BAD_BYTES : why };
}

/** One header line as parsed. The same text always parses the same, so a connection keeps them (FieldCache). */
export interface Field<D = unknown> {
  readonly name: string;
  /** The name lower-cased, for every later look at it. */
  readonly lower: string;
  readonly value: string;
  readonly kind: FieldKind;
  /** A list-valued framing header's tokens, lower case (Connection, Transfer-Encoding, Content-Length). */
  readonly tokens: readonly string[];
  /**
   * What the cache's owner made of this line, kept with it for the next time the line comes (the relay:
   * the line as it goes on). Only for a line from a FieldCache.
   */
  derived: D | undefined;
}

const enum FieldKind { Other, TransferEncoding, ContentLength, Host, Connection, Upgrade }

const KINDS: ReadonlyMap<string, FieldKind> = new Map([
  ['transfer-encoding', FieldKind.TransferEncoding],
  ['content-length', FieldKind.ContentLength],
  ['host', FieldKind.Host],
  ['connection', FieldKind.Connection],
  ['upgrade', FieldKind.Upgrade],
]);

const FIELD_CACHE_MAX = 256;

/**
 * The header lines a connection has sent, parsed, by their text. A connection's heads repeat most of
 * their lines (Host, User-Agent, Authorization on the way out; a service's own headers on the way back),
 * and a line's parse is a pure function of its text. Only lines that parsed are kept, so a refused line
 * is found again each time. Bounded: lines that change every time (Date, a request id) fill it, and it
 * starts over when full.
 */
export class FieldCache<D = unknown> {
  readonly #lines = new Map<string, Field<D>>();

  /** The line parsed, or undefined if it is not a header line (obs-fold, a malformed one). */
  field(line: string): Field<D> | undefined {
    let f = this.#lines.get(line);
    if (f === undefined) {
      f = parseField<D>(line);
      if (f === undefined) return undefined;
      if (this.#lines.size >= FIELD_CACHE_MAX) this.#lines.clear();
      this.#lines.set(line, f);
    }
    return f;
  }
}

function parseField<D>(line: string): Field<D> | undefined {
  const m = FIELD.exec(line);
  if (!m) return undefined;
  const lower = m[1]!.toLowerCase();
  const kind = KINDS.get(lower) ?? FieldKind.Other;
  const listed = kind === FieldKind.Connection || kind === FieldKind.TransferEncoding || kind === FieldKind.ContentLength;
  // Frozen: a head's connection list may be this very array, shared by every message the line is in.
  return { name: m[1]!, lower, value: m[2]!, kind, tokens: listed ? Object.freeze(tokens(m[2]!)) : NONE, derived: undefined };
}

/**
 * Header lines to [name, value, ...] and the headers that frame the message, in one pass; obs-fold and
 * malformed lines are refused. The lists of framing headers are made only when one is there.
 */
interface Fields<D> {
  fields: Field<D>[];
  te: Field<D>[] | undefined;
  cl: Field<D>[] | undefined;
  host: string[] | undefined;
  /** Connection tokens, lower case. */
  connection: string[];
  upgrade: boolean;
}

const NONE: readonly string[] = Object.freeze([]);

function fields<D>(lines: string[], cache: FieldCache<D> | undefined): Fields<D> | { why: string } {
  const f: Fields<D> = { fields: [], te: undefined, cl: undefined, host: undefined, connection: NONE as string[], upgrade: false };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const field = cache === undefined ? parseField<D>(line) : cache.field(line);
    if (field === undefined) return { why: line[0] === ' ' || line[0] === '\t' ? 'a folded header line (obs-fold)' : 'a malformed header line' };
    f.fields.push(field);
    switch (field.kind) {
      case FieldKind.Other: break;
      case FieldKind.TransferEncoding: (f.te ??= []).push(field); break;
      case FieldKind.ContentLength: (f.cl ??= []).push(field); break;
      case FieldKind.Host: (f.host ??= []).push(field.value); break;
      // The line's own tokens (shared with its cache entry), or all lines' together.
      case FieldKind.Connection: f.connection = f.connection === NONE ? (field.tokens as string[]) : [...f.connection, ...field.tokens]; break;
      case FieldKind.Upgrade: f.upgrade = true; break;
    }
  }
  return f;
}

// One token (`keep-alive`, a length) is the usual case: no split.
const tokens = (v: string): string[] => {
  if (!v.includes(',')) {
    const t = v.trim().toLowerCase();
    return t ? [t] : [];
  }
  return v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
};

/** Every token of a list-valued header's lines, in order (one line's without a copy). */
function allTokens(lines: readonly Field[] | undefined): readonly string[] {
  if (lines === undefined) return NONE;
  if (lines.length === 1) return lines[0]!.tokens;
  return lines.flatMap((l) => l.tokens);
}

/** `cache`: the connection's header lines already parsed (FieldCache). */
export function parseRequestHead<D = unknown>(buf: Buffer, cache?: FieldCache<D>): Parsed<RequestHead<D>> {
  const s = splitHead(buf, true);
  if (!s || 'why' in s) return s && { ok: false, why: s.why };
  const m = REQUEST_LINE.exec(s.lines[0]!);
  if (!m) return refused(s.text, 'a malformed request line');
  const method = m[1]!;
  const target = m[2]!;
  if (!(target.startsWith('/') || (target === '*' && method === 'OPTIONS'))) return refused(s.text, 'a request target that is not a path');
  const f = fields(s.lines, cache);
  if ('why' in f) return refused(s.text, f.why);
  const minor = m[3] === '1' ? 1 : 0;
  const { te, cl, host, connection } = f;
  let framing: Framing = NO_BODY;
  if (te && cl) return { ok: false, why: 'Content-Length together with Transfer-Encoding' };
  if (te) {
    if (te.length > 1 || te[0]!.value.toLowerCase() !== 'chunked' || minor === 0) return { ok: false, why: 'a Transfer-Encoding other than chunked' };
    framing = CHUNKED;
  }
  if (cl) {
    if (cl.length > 1) return { ok: false, why: 'more than one Content-Length' };
    if (!DIGITS.test(cl[0]!.value)) return { ok: false, why: 'a Content-Length that is not one number' };
    const length = Number(cl[0]!.value);
    if (length > 0) framing = { kind: 'length', length };
  }
  if ((host && host.length > 1) || (minor === 1 && !host)) return { ok: false, why: 'not exactly one Host header' };
  const close = connection.includes('close') || (minor === 0 && !connection.includes('keep-alive'));
  return { ok: true, head: { method, target, minor, framing, close, connection, upgrade: f.upgrade || connection.includes('upgrade'), host: host?.[0] ?? '', size: s.size, fields: f.fields } };
}

/** A reply head; `method` is the request's (HEAD has no body whatever the headers say). */
export function parseResponseHead<D = unknown>(buf: Buffer, method: string, cache?: FieldCache<D>): Parsed<ResponseHead<D>> {
  const s = splitHead(buf, false);
  if (!s || 'why' in s) return s && { ok: false, why: s.why };
  const m = STATUS_LINE.exec(s.lines[0]!);
  if (!m) return refused(s.text, 'a malformed status line');
  const f = fields(s.lines, cache);
  if ('why' in f) return refused(s.text, f.why);
  const status = Number(m[2]);
  const minor = m[1] === '1' ? 1 : 0;
  let close = f.connection.includes('close') || (minor === 0 && !f.connection.includes('keep-alive'));
  let framing: Framing;
  const te = allTokens(f.te);
  const cl = allTokens(f.cl);
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NO_BODY;
  else if (te.length) framing = te[te.length - 1] === 'chunked' ? CHUNKED : TO_CLOSE;
  else if (cl.length) {
    // Repeated equal values are allowed (RFC 9110 §8.6); differing ones leave the length unknown.
    for (let i = 1; i < cl.length; i++) if (cl[i] !== cl[0]) return { ok: false, why: 'an unusable Content-Length' };
    if (!DIGITS.test(cl[0]!)) return { ok: false, why: 'an unusable Content-Length' };
    framing = { kind: 'length', length: Number(cl[0]) };
  } else framing = TO_CLOSE;
  if (framing.kind === 'close') close = true;
  return { ok: true, head: { status, reason: m[3] ?? '', minor, framing, close, connection: f.connection, size: s.size, fields: f.fields } };
}

/**
 * A chunked body, decoded as it arrives. `push` hands each piece of data to `onData` and says how many
 * input bytes belonged to the body: less than given only once the body (with its trailers) is complete,
 * the rest being the next message. Chunk extensions are allowed and dropped; trailers are read, checked
 * like header lines and dropped.
 */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'cr' | 'lf' | 'trailer' | 'done' = 'size';
  private left = 0;
  private line = '';
  private trailerBytes = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  push(buf: Buffer, onData: (piece: Buffer) => void): number | { why: string } {
    let i = 0;
    while (i < buf.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        onData(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'cr';
      } else if (this.state === 'cr' || this.state === 'lf') {
        if (buf[i] !== (this.state === 'cr' ? 0x0d : 0x0a)) return { why: 'chunk data not followed by CRLF' };
        i++;
        this.state = this.state === 'cr' ? 'lf' : 'size';
      } else {
        const nl = buf.indexOf(0x0a, i);
        const upto = nl < 0 ? buf.length : nl;
        this.line += buf.toString('latin1', i, upto);
        if (this.state === 'trailer') this.trailerBytes += upto - i + 1;
        if (this.line.length > MAX_LINE || this.trailerBytes > MAX_TRAILERS) return { why: 'a chunk line or trailer section too long' };
        if (nl < 0) return buf.length;
        i = nl + 1;
        if (!this.line.endsWith('\r')) return { why: 'a bare LF in the chunked body' };
        const line = this.line.slice(0, -1);
        this.line = '';
        const err = this.state === 'size' ? this.sizeLine(line) : this.trailerLine(line);
        if (err) return { why: err };
      }
    }
    return i;
  }

  private sizeLine(line: string): string | undefined {
    const m = /^([0-9A-Fa-f]{1,13})(?:[ \t]*;[\t\x20-\x7e]*)?$/.exec(line);
    if (!m) return 'a malformed chunk size';
    this.left = parseInt(m[1]!, 16);
    this.state = this.left === 0 ? 'trailer' : 'data';
    return undefined;
  }

  private trailerLine(line: string): string | undefined {
    if (line === '') {
      this.state = 'done';
      return undefined;
    }
    if (line[0] === ' ' || line[0] === '\t') return 'a folded trailer line (obs-fold)';
    if (/[\0\r]/.test(line) || !FIELD.test(line)) return 'a malformed trailer line';
    return undefined;
  }
}
