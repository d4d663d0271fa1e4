import type { Literal } from './literals.js';
import type { Occurrence } from './matcher.js';

/**
 * Exact holdback for many literals: which tails of a buffer are proper prefixes of some literal. The
 * literals are kept sorted as byte strings, so all literals starting with a given tail form one run
 * found by binary search (native Buffer.compare). Tables turn away nearly every position before any
 * search: the first byte, the first two, and (for a tail of 4 or more bytes) a hashed bitset of the
 * first four. Two bytes alone are not enough: 1,000 values' base64 and hex forms start with nearly
 * every pair of letters and digits, and a binary search (about 15 native calls) at each of the last
 * maxLength-1 positions of every write cost more than matching the write. Cost per call: the last
 * maxLength-1 positions, one or two table reads each.
 */
/** 2^20 bits (128 KiB): under 3% set for 29,000 literals (1,000 values in all their forms). */
const QUAD_BITS = 20;

function quadHash(b: Uint8Array, p: number): number {
  return Math.imul(b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24), 0x9e3779b1) >>> (32 - QUAD_BITS);
}

export class PrefixIndex {
  readonly #literals: readonly Literal[];
  /** Literal indices in byte order. */
  readonly #sorted: Int32Array;
  readonly #first: Uint8Array = new Uint8Array(256);
  readonly #firstTwo: Uint8Array = new Uint8Array(65536);
  /** One bit per hash of a 4-byte start, for literals of 5 or more bytes (a 4-byte tail must extend). */
  readonly #firstFour: Int32Array = new Int32Array(1 << (QUAD_BITS - 5));
  readonly maxLength: number;

  constructor(literals: readonly Literal[]) {
    this.#literals = literals;
    const idx = literals.map((_, i) => i).filter((i) => literals[i]!.bytes.length > 0);
    idx.sort((a, b) => Buffer.compare(literals[a]!.bytes, literals[b]!.bytes));
    this.#sorted = Int32Array.from(idx);
    let max = 0;
    for (const i of idx) {
      const b = literals[i]!.bytes;
      max = Math.max(max, b.length);
      this.#first[b[0]!] = 1;
      if (b.length >= 2) this.#firstTwo[(b[0]! << 8) | b[1]!] = 1;
      if (b.length > 4) {
        const h = quadHash(b, 0);
        this.#firstFour[h >>> 5]! |= 1 << (h & 31);
      }
    }
    this.maxLength = max;
  }

  pendingStart(buf: Buffer): number {
    const n = buf.length;
    for (let p = Math.max(0, n - this.maxLength + 1); p < n; p++) {
      if (!this.#mayStart(buf, p)) continue;
      const k = this.#lowerBound(buf, p);
      if (k < 0) continue;
      // The first literal >= the tail, or the one after it when the tail is itself a literal.
      if (this.#extends(buf, p, k) || this.#extends(buf, p, k + 1)) return p;
    }
    return n;
  }

  partials(buf: Buffer): Occurrence[] {
    const n = buf.length;
    const out: Occurrence[] = [];
    for (let p = Math.max(0, n - this.maxLength + 1); p < n; p++) {
      if (!this.#mayStart(buf, p)) continue;
      const tail = n - p;
      for (let k = this.#lowerBound(buf, p); k >= 0 && k < this.#sorted.length; k++) {
        const lit = this.#literals[this.#sorted[k]!]!.bytes;
        if (lit.length < tail || buf.compare(lit, 0, tail, p, n) !== 0) break;
        if (lit.length > tail) out.push({ start: p, end: n, literal: this.#sorted[k]! });
      }
    }
    return out;
  }

  #mayStart(buf: Buffer, p: number): boolean {
    const tail = buf.length - p;
    if (tail === 1) return this.#first[buf[p]!] === 1;
    if (this.#firstTwo[(buf[p]! << 8) | buf[p + 1]!] !== 1) return false;
    if (tail < 4) return true;
    const h = quadHash(buf, p);
    return (this.#firstFour[h >>> 5]! & (1 << (h & 31))) !== 0;
  }

  /** Position in #sorted of the first literal >= buf[p..], or -1 when there is none. */
  #lowerBound(buf: Buffer, p: number): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const lit = this.#literals[this.#sorted[mid]!]!.bytes;
      if (buf.compare(lit, 0, lit.length, p, buf.length) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#sorted.length ? lo : -1;
  }

  #extends(buf: Buffer, p: number, k: number): boolean {
    if (k < 0 || k >= this.#sorted.length) return false;
    const lit = this.#literals[this.#sorted[k]!]!.bytes;
    const tail = buf.length - p;
    return lit.length > tail && buf.compare(lit, 0, tail, p, buf.length) === 0;
  }
}
