import type { Literal } from './literals.js';
import type { Occurrence } from './matcher.js';

/**
 * Exact holdback for many literals: which tails of a buffer are proper prefixes of some literal. The
 * literals are kept sorted as byte strings, so all literals starting with a given tail form one run
 * found by binary search (native Buffer.compare); a table of the first two bytes turns away nearly every
 * position before any search. Cost per call: the last maxLength-1 positions, one table read each.
 */
export class PrefixIndex {
  readonly #literals: readonly Literal[];
  /** Literal indices in byte order. */
  readonly #sorted: Int32Array;
  readonly #first: Uint8Array = new Uint8Array(256);
  readonly #firstTwo: Uint8Array = new Uint8Array(65536);
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
    return p + 1 === buf.length ? this.#first[buf[p]!] === 1 : this.#firstTwo[(buf[p]! << 8) | buf[p + 1]!] === 1;
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
