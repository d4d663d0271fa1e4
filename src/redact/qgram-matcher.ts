import { LiteralMatcher } from './literal-matcher.js';
import type { Literal } from './literals.js';
import type { Matcher, Occurrence } from './matcher.js';
import { PrefixIndex } from './prefix-index.js';

const Q = 4;
const MAX_ENTRIES = 300_000;
const GOLDEN = 0x9e3779b1 | 0;

/**
 * The engine for many literals (hundreds of secrets times their derived forms). One pass over the
 * buffer reads a 4-byte gram only every `step` bytes, where step = shortest literal - 3: any occurrence
 * of a literal then covers one sampled position, at an offset below step, so the table holds each
 * literal's grams at offsets 0..step-1. A sampled gram is tested against a bitset (one bit per hash
 * slot, mostly zero), then against an exact gram table, and only then are candidate literals compared
 * byte by byte at the implied start. Literals shorter than 4 bytes (refused or warned about elsewhere,
 * but still masked) go through a LiteralMatcher. Holdback comes from a PrefixIndex over all literals.
 */
export class QgramMatcher implements Matcher {
  readonly literals: readonly Literal[];
  readonly maxLength: number;
  readonly #prefixes: PrefixIndex;
  readonly #short: { matcher: LiteralMatcher; index: number[] } | undefined;
  readonly #step: number;
  readonly #bits: Int32Array;
  readonly #bitShift: number;
  // Open-addressed exact table: gram -> head of a linked list of (literal, offset) entries.
  readonly #keys: Int32Array;
  readonly #heads: Int32Array;
  readonly #mask: number;
  readonly #entLit: Int32Array;
  readonly #entOff: Int32Array;
  readonly #entNext: Int32Array;

  constructor(literals: readonly Literal[]) {
    this.literals = literals;
    this.#prefixes = new PrefixIndex(literals);
    this.maxLength = this.#prefixes.maxLength;
    const long: number[] = [];
    const short: number[] = [];
    literals.forEach((l, i) => {
      if (l.bytes.length >= Q) long.push(i);
      else if (l.bytes.length > 0) short.push(i);
    });
    this.#short = short.length > 0 ? { matcher: new LiteralMatcher(short.map((i) => literals[i]!)), index: short } : undefined;
    const minLen = long.reduce((m, i) => Math.min(m, literals[i]!.bytes.length), Infinity);
    // The tables hold literals x step entries: past MAX_ENTRIES a shorter step keeps them bounded
    // (1,000 values with all their forms would take ~27 MB at the full step, ~12 MB capped).
    this.#step = long.length === 0 ? 1 : Math.max(1, Math.min(minLen - Q + 1, Math.max(4, Math.floor(MAX_ENTRIES / long.length))));
    const entries = long.length * this.#step;
    const bitCount = pow2Between(entries * 16, 1 << 16, 1 << 24);
    this.#bits = new Int32Array(bitCount >>> 5);
    this.#bitShift = 32 - Math.log2(bitCount);
    const slots = pow2Between(entries * 2, 1 << 8, 1 << 23);
    this.#mask = slots - 1;
    this.#keys = new Int32Array(slots);
    this.#heads = new Int32Array(slots).fill(-1);
    this.#entLit = new Int32Array(entries);
    this.#entOff = new Int32Array(entries);
    this.#entNext = new Int32Array(entries);
    let e = 0;
    for (const i of long) {
      const b = literals[i]!.bytes;
      for (let off = 0; off < this.#step; off++) {
        const g = b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
        const h = Math.imul(g, GOLDEN) >>> this.#bitShift;
        this.#bits[h >>> 5]! |= 1 << (h & 31);
        const slot = this.#slotFor(g, true);
        this.#entLit[e] = i;
        this.#entOff[e] = off;
        this.#entNext[e] = this.#heads[slot]!;
        this.#heads[slot] = e;
        e++;
      }
    }
  }

  /** The slot holding gram g (claiming an empty one when `insert`), or -1 when absent. */
  #slotFor(g: number, insert: boolean): number {
    let s = Math.imul(g ^ (g >>> 15), 0x2c1b3c6d) & this.#mask;
    for (;;) {
      const head = this.#heads[s]!;
      if (head === -1) {
        if (!insert) return -1;
        this.#keys[s] = g;
        return s;
      }
      if (this.#keys[s] === g) return s;
      s = (s + 1) & this.#mask;
    }
  }

  findAll(buf: Buffer): Occurrence[] {
    const out: Occurrence[] = [];
    const n = buf.length;
    const step = this.#step;
    const bits = this.#bits;
    const shift = this.#bitShift;
    if (this.#entLit.length > 0) {
      for (let p = 0; p + Q <= n; p += step) {
        const g = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
        const h = Math.imul(g, GOLDEN) >>> shift;
        if ((bits[h >>> 5]! & (1 << (h & 31))) === 0) continue;
        const slot = this.#slotFor(g, false);
        if (slot === -1) continue;
        for (let e = this.#heads[slot]!; e !== -1; e = this.#entNext[e]!) {
          const start = p - this.#entOff[e]!;
          const lit = this.literals[this.#entLit[e]!]!.bytes;
          const end = start + lit.length;
          if (start < 0 || end > n) continue;
          let k = 0;
          while (k < lit.length && buf[start + k] === lit[k]) k++;
          if (k === lit.length) out.push({ start, end, literal: this.#entLit[e]! });
        }
      }
    }
    if (this.#short !== undefined) {
      for (const o of this.#short.matcher.findAll(buf)) out.push({ ...o, literal: this.#short.index[o.literal]! });
    }
    return out;
  }

  pendingStart(buf: Buffer): number {
    return this.#prefixes.pendingStart(buf);
  }

  partials(buf: Buffer): Occurrence[] {
    return this.#prefixes.partials(buf);
  }
}

function pow2Between(want: number, min: number, max: number): number {
  let n = min;
  while (n < want && n < max) n *= 2;
  return n;
}

/** Up to this many literals Buffer.indexOf per literal wins; past it one sampled pass does. */
export const LITERAL_MATCHER_MAX = 8;

export function chooseMatcher(literals: readonly Literal[]): Matcher {
  return literals.length <= LITERAL_MATCHER_MAX ? new LiteralMatcher(literals) : new QgramMatcher(literals);
}
