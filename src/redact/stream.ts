/**
 * Streaming byte-level redaction. The rules, identical for a whole buffer and for any chunking of it:
 *
 * - Matching is on bytes, against a list of literals (secret values, their lines, their derived forms:
 *   see literals.ts and forms.ts), in a *view* of the output with terminal noise removed (ANSI escape
 *   sequences, line breaks inside wrapped base64: see noise.ts). Skipped bytes inside a masked region
 *   are written after its replacement (escape sequences only), so the output's colours survive.
 * - Selection: leftmost match first; at the same start the longest (ties: the earlier literal). A match
 *   that starts inside the current region and ends past it extends the region, so overlapping secrets
 *   are merged into one region and never leave a fragment in clear; a match wholly inside adds nothing.
 *   Matches that only touch (one ends where the next starts) are separate regions.
 * - A region becomes `[REDACTED:A][REDACTED:B]...`, one per distinct label of the matches that formed
 *   it, in order of first appearance. `count` grows by the number of those matches (two merged secrets
 *   count 2; a secret nested wholly inside a longer match counts nothing extra).
 * - End of stream: a tail that is a proper prefix of a literal and at least min(8, ceil(len/2)) bytes
 *   long is masked as that literal (and counted), taking part in selection like a match that ends at
 *   the end; a shorter tail is emitted as-is. A child that prints most of a key and dies must not leak
 *   it, while a coincidental byte or two at the end must not be eaten. The same rule applies right
 *   before a bare `\r` (not followed by `\n`): a progress line rewritten in place shows no prefix.
 * - Holdback: after each push everything before the earliest position that could still start a match
 *   (a suffix that is a proper prefix of some literal) is emitted, except that a region containing that
 *   position is held whole, since the match to come may extend it. That also holds back a complete match
 *   a longer literal could still replace. Held bytes: at most longest-1, plus a region that can still grow.
 *
 * Across time (`idle()`, called by the sink when the child has been silent for IDLE_MS):
 * - Everything held is released under the end-of-stream rule: a held prefix of a literal at least
 *   min(8, ceil(len/2)) bytes long comes out masked, a shorter one as-is. The reader of an interactive
 *   program sees its output, and a prefix printed before the child blocks is never shown in clear.
 * - The released tail that could still start a match stays *remembered* (already written, kept only as
 *   matching context). If the rest of the value arrives later, after a pause of any length, the match is
 *   completed against the remembered prefix and the rest is masked: it disappears into the mask
 *   already written for a masked prefix (the output reads as if there had been no pause), and after a
 *   short prefix that went out as-is it gets its own (`sk_` then `[REDACTED:X]`). The rest is never
 *   written in clear. Only the pause rule depends on timing; without pauses the output is the
 *   same for every chunking.
 *
 * Why chunking cannot change the output: no match can start in emitted bytes (they lie before every
 * pending prefix), so each emitted region is final, and every cut falls on a region boundary. The noise
 * tokenizer is a state machine over bytes that holds an unfinished escape sequence, so the view is the
 * same for every chunking too.
 */
import { InternalError } from '../errors.js';
import type { Matcher } from './matcher.js';
import { NoiseTokenizer, type Piece } from './noise.js';
import { concatPieces, EMPTY_PIECE, renderPiece, slicePiece, subPiece } from './piece.js';
import { candidatesIn, render, selectRegions, type PartialRule, type Region } from './regions.js';

export interface RedactorStream {
  /**
   * Feed bytes; returns the bytes that are safe to emit now (possibly empty, may share memory with chunk).
   * What a stream holds across pushes it copies, so the caller may reuse chunk's memory once it has
   * consumed the output (the placeholder relay reads each reply into one buffer: test/redact/borrowed.test.ts).
   */
  push(chunk: Uint8Array): Buffer;
  /**
   * push's output as the parts it is made of, none empty (see pushParts): a caller that writes pieces
   * anyway skips the copy that joins a small head (held bytes) to a large tail left in the chunk.
   */
  pushParts?(chunk: Uint8Array): Buffer[];
  /** The source has been silent for the idle interval: returns held bytes released under the pause rule. */
  idle(): Buffer;
  /** End of stream: returns the remaining bytes, with the end-of-stream rule applied. */
  end(): Buffer;
  /** Number of replacements made so far. */
  readonly count: number;
  /** Bytes currently held back (for tests and diagnostics). */
  readonly pending: number;
}

/**
 * How long the child must be silent before held bytes are released (RedactingSink's timer). Long enough
 * that a value written in two calls a few milliseconds apart is matched whole; short enough that a prompt
 * (`Password: `) or a progress line does not look stuck.
 */
export const IDLE_MS = 200;

const EMPTY = Buffer.alloc(0);
/** Writes shorter than this are joined to held bytes by copying: the copy is cheaper than two scans. */
export const SEAM_MIN = 1024;

/** `s.push(chunk)` in parts, none empty: the stream's own parts when it has them. */
export function pushParts(s: RedactorStream, chunk: Uint8Array): Buffer[] {
  if (s.pushParts !== undefined) return s.pushParts(chunk);
  const out = s.push(chunk);
  return out.length === 0 ? [] : [out];
}

/** Parts as one buffer, copied only when there are two or more. */
export function joinParts(parts: Buffer[]): Buffer {
  return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Literal matching on a buffer that ends the stream, no noise view: for string-sequence payloads. */
export function redactPlain(matcher: Matcher, buf: Buffer, rule: PartialRule = 'mask'): { output: Buffer; count: number } {
  const regions = selectRegions(candidatesIn(matcher, buf, true, rule), matcher.literals);
  return { output: render(buf, regions, buf.length), count: regions.reduce((n, r) => n + r.count, 0) };
}

/** Redact a buffer that is the whole stream: the reference semantics every chunking must reproduce. */
export function redactFinal(matcher: Matcher, buf: Buffer, rule: PartialRule = 'mask'): { output: Buffer; count: number } {
  const s = new MatcherStream(matcher, rule);
  const head = s.push(buf);
  const tail = s.end();
  return { output: tail.length === 0 ? head : Buffer.concat([head, tail]), count: s.count };
}

type Mode = 'push' | 'idle' | 'end';

export class MatcherStream implements RedactorStream {
  readonly #matcher: Matcher;
  readonly #rule: PartialRule;
  readonly #noise: NoiseTokenizer;
  /** Tokenized output not yet written. */
  #held: Piece = EMPTY_PIECE;
  /** View bytes already written by idle() that a match may still continue from (see the pause rule). */
  #ghost: Buffer = EMPTY;
  /** The remembered context ends inside a region idle() wrote masked: its continuation adds no second mask. */
  #ghostMasked = false;
  #count = 0;
  #ended = false;

  constructor(matcher: Matcher, rule: PartialRule = 'mask') {
    this.#matcher = matcher;
    this.#rule = rule;
    this.#noise = new NoiseTokenizer((payload) => redactPlain(matcher, payload, rule));
  }

  get count(): number {
    return this.#count + this.#noise.count;
  }

  get pending(): number {
    return this.#held.raw.length + this.#noise.pending;
  }

  push(chunk: Uint8Array): Buffer {
    return joinParts(this.pushParts(chunk));
  }

  pushParts(chunk: Uint8Array): Buffer[] {
    if (this.#ended) throw new InternalError('redactor stream written after end');
    if (chunk.byteLength === 0) return [];
    const piece = this.#noise.push(asBuffer(chunk));
    // Held bytes would force a copy of the whole write to join them. Scan a short seam first (held bytes
    // plus the write up to a line end past the longest literal): usually nothing is held after it, and
    // the rest is scanned in place. Two scans of one write are two writes, so the output is the same.
    if (this.#held.raw.length > 0 && piece.view.length > SEAM_MIN) {
      const k = piece.view.indexOf(0x0a, this.#matcher.maxLength) + 1;
      if (k > 0 && k < piece.view.length) {
        const head = this.#scan(concatPieces(this.#held, subPiece(piece, 0, k)), 'push');
        // What the seam left held is its last bytes (partial rule `off` always holds longest-1): when they
        // all come from this write, they are scanned again in place with the rest instead of copied to it.
        const h = this.#held.view.length;
        const from = h <= k && this.#ghost.length === 0 ? k - h : -1;
        if (from >= 0) this.#held = EMPTY_PIECE;
        const rest = from >= 0 ? subPiece(piece, from, piece.view.length) : concatPieces(this.#held, subPiece(piece, k, piece.view.length));
        return nonEmpty(...head, ...this.#scan(rest, 'push'));
      }
    }
    return nonEmpty(...this.#scan(concatPieces(this.#held, piece), 'push'));
  }

  idle(): Buffer {
    if (this.#ended || this.#held.raw.length === 0) return EMPTY;
    return joinParts(nonEmpty(...this.#scan(this.#held, 'idle')));
  }

  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    const out = joinParts(nonEmpty(...this.#scan(concatPieces(this.#held, this.#noise.end()), 'end')));
    this.#ghost = EMPTY;
    return out;
  }

  /**
   * Match over remembered context + `cur`'s view, write what is final, hold the rest. Positions below
   * g (the remembered context) were written already; a region reaching into them is written clipped.
   */
  #scan(cur: Piece, mode: Mode): Buffer[] {
    const g = this.#ghost.length;
    const buf = g === 0 ? cur.view : Buffer.concat([this.#ghost, cur.view]);
    const regions = buf.length === 0 ? [] : selectRegions(candidatesIn(this.#matcher, buf, mode !== 'push', this.#rule), this.#matcher.literals);
    let cut = buf.length;
    if (mode === 'push' && this.#rule === 'off') {
      // Caller-supplied input: hold the same number of bytes whatever they are, so not even the timing
      // of what comes out tells whether the input ends in the start of a value.
      cut = Math.max(0, buf.length - this.#matcher.maxLength + 1);
      const growing = regions.find((r) => r.start < cut && cut < r.end);
      if (growing !== undefined) cut = growing.start;
    } else if (mode === 'push') {
      cut = this.#matcher.pendingStart(buf);
      // A final \r may turn out bare (see candidatesIn): hold it and any prefix right before it.
      if (buf.length > 0 && buf[buf.length - 1] === 0x0d) cut = Math.min(cut, this.#matcher.pendingStart(buf.subarray(0, buf.length - 1)));
      const growing = regions.find((r) => r.start < cut && cut < r.end);
      if (growing !== undefined) cut = growing.start;
    }
    const done: Region[] = [];
    let maskedToEnd = false;
    for (const r of regions) {
      if (r.end > cut) break;
      if (r.end <= g) continue;
      maskedToEnd = r.end === buf.length;
      if (r.start < g && this.#ghostMasked) {
        // The rest of a value whose prefix went out masked: it disappears into that mask.
        done.push({ ...r, start: 0, end: r.end - g, labels: [], count: 0 });
        continue;
      }
      this.#count += r.count;
      done.push(g === 0 ? r : { ...r, start: Math.max(r.start, g) - g, end: r.end - g });
    }
    const emitTo = Math.max(cut, g) - g;
    const out = renderPiece(cur, done, emitTo);
    if (mode === 'push') {
      this.#ghost = cut < g ? Buffer.from(buf.subarray(cut, g)) : EMPTY;
      if (this.#ghost.length === 0) this.#ghostMasked = false;
      this.#held = slicePiece(cur, emitTo);
    } else {
      // Idle: remember the tail that a later write may complete.
      this.#ghost = mode === 'idle' ? Buffer.from(buf.subarray(this.#matcher.pendingStart(buf))) : EMPTY;
      this.#ghostMasked = this.#ghost.length > 0 && (maskedToEnd || (cur.view.length === 0 && this.#ghostMasked));
      this.#held = EMPTY_PIECE;
    }
    return out;
  }
}

function nonEmpty(...parts: Buffer[]): Buffer[] {
  return parts.filter((p) => p.length > 0);
}

/** A stream for a redactor with nothing to find: bytes pass as they come. */
export class PassStream implements RedactorStream {
  #ended = false;
  readonly count = 0;
  readonly pending = 0;
  push(chunk: Uint8Array): Buffer {
    if (this.#ended) throw new InternalError('redactor stream written after end');
    return asBuffer(chunk);
  }
  idle(): Buffer {
    return EMPTY;
  }
  end(): Buffer {
    this.#ended = true;
    return EMPTY;
  }
}

/** Values first, then secret shapes over what is left: one stream, counts summed. */
export class ChainStream implements RedactorStream {
  constructor(
    readonly first: RedactorStream,
    readonly second: RedactorStream,
  ) {}
  get count(): number {
    return this.first.count + this.second.count;
  }
  get pending(): number {
    return this.first.pending + this.second.pending;
  }
  push(chunk: Uint8Array): Buffer {
    return joinParts(this.pushParts(chunk));
  }
  /** Each part of the first stage goes on as its own write: a stream's output is the same for any chunking. */
  pushParts(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (const mid of pushParts(this.first, chunk)) for (const part of pushParts(this.second, mid)) out.push(part);
    return out;
  }
  idle(): Buffer {
    const mid = this.first.idle();
    const a = mid.length === 0 ? EMPTY : this.second.push(mid);
    const b = this.second.idle();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  }
  end(): Buffer {
    const mid = this.first.end();
    const a = mid.length === 0 ? EMPTY : this.second.push(mid);
    const b = this.second.end();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  }
}
