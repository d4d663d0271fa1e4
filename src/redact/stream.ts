/**
 * Streaming byte-level redaction. The rules, identical for a whole buffer and for any chunking of it:
 *
 * - Matching is on bytes, against a list of literals (secret values, their lines, later encoded forms).
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
 *   it, while a coincidental byte or two at the end must not be eaten.
 * - Holdback: after each push everything before the earliest position that could still start a match
 *   (a suffix that is a proper prefix of some literal) is emitted, except that a region containing that
 *   position is held whole, since the match to come may extend it. That also holds back a complete match
 *   a longer literal could still replace. Held bytes: at most longest-1, plus a region that can still grow.
 *
 * Why chunking cannot change the output: no match can start in emitted bytes (they lie before every
 * pending prefix), so each emitted region is final, and every cut falls on a region boundary.
 */
import { InternalError } from '../errors.js';
import type { Matcher } from './matcher.js';
import { candidatesIn, render, selectRegions } from './regions.js';

export interface RedactorStream {
  /** Feed bytes; returns the bytes that are safe to emit now (possibly empty, may share memory with chunk). */
  push(chunk: Uint8Array): Buffer;
  /** End of stream: returns the remaining bytes, with the end-of-stream rule applied. */
  end(): Buffer;
  /** Number of replacements made so far. */
  readonly count: number;
  /** Bytes currently held back (for tests and diagnostics). */
  readonly pending: number;
}

const EMPTY = Buffer.alloc(0);

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Redact a buffer that ends the stream: the reference semantics, and the last step of every stream. */
export function redactFinal(matcher: Matcher, buf: Buffer): { output: Buffer; count: number } {
  const regions = selectRegions(candidatesIn(matcher, buf, true), matcher.literals);
  return { output: render(buf, regions, buf.length), count: regions.reduce((n, r) => n + r.count, 0) };
}

export class MatcherStream implements RedactorStream {
  readonly #matcher: Matcher;
  #held: Buffer = EMPTY;
  #count = 0;
  #ended = false;

  constructor(matcher: Matcher) {
    this.#matcher = matcher;
  }

  get count(): number {
    return this.#count;
  }

  get pending(): number {
    return this.#held.length;
  }

  push(chunk: Uint8Array): Buffer {
    if (this.#ended) throw new InternalError('redactor stream written after end');
    if (chunk.byteLength === 0) return EMPTY;
    // Only the held bytes are rescanned: nothing already emitted can be part of a future match.
    const buf = this.#held.length === 0 ? asBuffer(chunk) : Buffer.concat([this.#held, chunk]);
    const regions = selectRegions(candidatesIn(this.#matcher, buf, false), this.#matcher.literals);
    let cut = this.#matcher.pendingStart(buf);
    const growing = regions.find((r) => r.start < cut && cut < r.end);
    if (growing !== undefined) cut = growing.start;
    const done = regions.filter((r) => r.end <= cut);
    // Copy: the caller may reuse its chunk's memory once push returns.
    this.#held = cut === buf.length ? EMPTY : Buffer.from(buf.subarray(cut));
    for (const r of done) this.#count += r.count;
    return render(buf, done, cut);
  }

  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    const { output, count } = redactFinal(this.#matcher, this.#held);
    this.#held = EMPTY;
    this.#count += count;
    return output;
  }
}
