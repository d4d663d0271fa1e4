import { LiteralMatcher } from './literal-matcher.js';
import type { Literal } from './literals.js';
import type { Matcher, Occurrence } from './matcher.js';
import { PrefixIndex } from './prefix-index.js';

const Q = 4;
/**
 * Table entries (literals x step) at most. 1,000 values with all their forms get step 10, not 25: the
 * full step made their sampling pass 8% faster end to end but took 6 MB more (and twice the build time).
 */
const MAX_ENTRIES = 300_000;
/** The longest step: offsets and check positions are packed in 16 bits. */
const MAX_STEP = 255;
const GOLDEN = 0x9e3779b1 | 0;

/**
 * The engine for many literals (hundreds of secrets times their derived forms). One pass over the
 * buffer reads a 4-byte gram only every `step` bytes, where step = shortest literal - 3: any occurrence
 * of a literal then covers one sampled position, at an offset below step, so the table holds each
 * literal's grams at offsets 0..step-1. A sampled gram is tested against a bitset (one bit per hash
 * slot, mostly zero), then against an exact gram table, and only then are candidate literals compared
 * byte by byte at the implied start. Literals shorter than 4 bytes (refused or warned about elsewhere,
 * but still masked) go through a LiteralMatcher. Holdback comes from a PrefixIndex over all literals.
 *
 * Layout, for speed at 1,000 values (29,000 literals): ordinary text shares many grams with the
 * literals (hex forms against git SHAs and request ids, a value's common part against its 200
 * siblings), so a sampled gram that is in the table is common, and its entries are walked often. They
 * lie in one run per gram (not a linked list), and each entry carries a second gram of its literal
 * (its first four bytes, or the four after them when the hit is at offset 0), compared before any
 * literal byte is read: a walk touches a few neighbouring ints instead of scattered Buffers. The bitset
 * and the gram table are sized by the distinct grams (about a third of literals x step), which keeps
 * the bitset in cache and the tables small.
 */
export class QgramMatcher implements Matcher {
  readonly literals: readonly Literal[];
  readonly maxLength: number;
  readonly #prefixes: PrefixIndex;
  readonly #short: { matcher: LiteralMatcher; index: number[] } | undefined;
  readonly #step: number;
  readonly #bits: Int32Array;
  readonly #bitShift: number;
  // Open-addressed gram table: slot s holds its gram at 2s and its entry count at 2s+1 (one cache line
  // per probe, 0 = empty slot); the entries' run in the entry arrays is [start[s], start[s] + count).
  readonly #slots: Int32Array;
  readonly #start: Int32Array;
  readonly #mask: number;
  readonly #entLit: Int32Array;
  /** The sampled gram's offset in the literal (low 8 bits) and where the check gram lies (high 8). */
  readonly #entAt: Uint16Array;
  readonly #entCheck: Int32Array;

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
    // The tables hold literals x step entries (10 bytes each): past MAX_ENTRIES a shorter step keeps
    // them bounded (1,000 values: 3 MB of entries, 3 MB of gram table).
    this.#step = long.length === 0 ? 1 : Math.max(1, Math.min(minLen - Q + 1, MAX_STEP, Math.max(4, Math.floor(MAX_ENTRIES / long.length))));
    const step = this.#step;
    const entries = long.length * step;
    const distinct = countDistinct(long, literals, step);
    // About 3% of bits set: every sampled gram reads the bitset, and only hits probe the table.
    const bitCount = pow2Between(distinct * 32, 1 << 16, 1 << 22);
    this.#bits = new Int32Array(bitCount >>> 5);
    this.#bitShift = 32 - Math.log2(bitCount);
    const slots = pow2Between(distinct * 2, 1 << 8, 1 << 23);
    this.#mask = slots - 1;
    this.#slots = new Int32Array(slots * 2);
    this.#start = new Int32Array(slots);
    // Pass 1: claim each gram's slot and count its entries; pass 2: place entries in per-slot runs.
    for (const i of long) {
      for (let off = 0; off < step; off++) {
        const g = gramAt(literals[i]!.bytes, off);
        const h = Math.imul(g, GOLDEN) >>> this.#bitShift;
        this.#bits[h >>> 5]! |= 1 << (h & 31);
        this.#slots[2 * this.#slotFor(g, true) + 1]!++;
      }
    }
    let at = 0;
    for (let s = 0; s < slots; s++) {
      this.#start[s] = at;
      at += this.#slots[2 * s + 1]!;
    }
    const fill = this.#start.slice();
    this.#entLit = new Int32Array(entries);
    this.#entAt = new Uint16Array(entries);
    this.#entCheck = new Int32Array(entries);
    for (const i of long) {
      const b = literals[i]!.bytes;
      for (let off = 0; off < step; off++) {
        const k = fill[this.#slotFor(gramAt(b, off), false)]!++;
        this.#entLit[k] = i;
        const checkAt = off === 0 ? Math.min(Q, b.length - Q) : 0;
        this.#entAt[k] = off | (checkAt << 8);
        this.#entCheck[k] = gramAt(b, checkAt);
      }
    }
  }

  /** The slot holding gram g (claiming an empty one when `insert`), or -1 when absent. */
  #slotFor(g: number, insert: boolean): number {
    let s = Math.imul(g ^ (g >>> 15), 0x2c1b3c6d) & this.#mask;
    const table = this.#slots;
    for (;;) {
      if (table[2 * s + 1] === 0) {
        if (!insert) return -1;
        table[2 * s] = g;
        return s;
      }
      if (table[2 * s] === g) return s;
      s = (s + 1) & this.#mask;
    }
  }

  findAll(buf: Buffer): Occurrence[] {
    const out: Occurrence[] = [];
    const n = buf.length;
    if (this.#entLit.length > 0) {
      const words = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      for (let p = 0; p + Q <= n; ) {
        p = sampleGrams(words, this.#bits, this.#bitShift, this.#step, p, n);
        for (let j = 0; j < gramHitCount; j += 2) this.#entriesAt(buf, words, gramHits[j]!, gramHits[j + 1]!, out);
      }
    }
    if (this.#short !== undefined) {
      for (const o of this.#short.matcher.findAll(buf)) out.push({ ...o, literal: this.#short.index[o.literal]! });
    }
    return out;
  }

  /** The literals whose gram at the sampled position p is g (a bitset hit), compared where they would start. */
  #entriesAt(buf: Buffer, words: DataView, p: number, g: number, out: Occurrence[]): void {
    const slot = this.#slotFor(g, false);
    if (slot === -1) return;
    const n = buf.length;
    const first = this.#start[slot]!;
    const last = first + this.#slots[2 * slot + 1]!;
    for (let e = first; e < last; e++) {
      const at = this.#entAt[e]!;
      const start = p - (at & 0xff);
      const c = start + (at >>> 8);
      if (start < 0 || c + Q > n || words.getInt32(c, true) !== this.#entCheck[e]) continue;
      const lit = this.literals[this.#entLit[e]!]!.bytes;
      const end = start + lit.length;
      if (end > n) continue;
      let k = 0;
      while (k < lit.length && buf[start + k] === lit[k]) k++;
      if (k === lit.length) out.push({ start, end, literal: this.#entLit[e]! });
    }
  }

  pendingStart(buf: Buffer): number {
    return this.#prefixes.pendingStart(buf);
  }

  partials(buf: Buffer): Occurrence[] {
    return this.#prefixes.partials(buf);
  }
}

/** Sampled positions whose gram is in the bitset, as (position, gram) pairs: see sampleGrams. */
const HIT_ROOM = 4096;
const gramHits = new Int32Array(HIT_ROOM);
/** How many ints sampleGrams wrote on its last call (a number, not an object: per call). */
let gramHitCount = 0;

/**
 * The grams at from, from + step, ... (while a whole gram fits before n) that hit the bitset, written
 * to gramHits until it is full; returns where it stopped. One unaligned little-endian read per gram,
 * the same int32 as gramAt. The loop only samples; the entries are walked after it (findAll): with that
 * walk inlined, the first match, or the first gram whose entries ran past the end, threw the loop's
 * optimized code away, and a cold process sampled on in the interpreter.
 */
function sampleGrams(words: DataView, bits: Int32Array, shift: number, step: number, from: number, n: number): number {
  const room = HIT_ROOM - 2;
  let k = 0;
  let p = from;
  for (; p + Q <= n && k <= room; p += step) {
    const g = words.getInt32(p, true);
    const h = Math.imul(g, GOLDEN) >>> shift;
    if ((bits[h >>> 5]! & (1 << (h & 31))) !== 0) {
      gramHits[k++] = p;
      gramHits[k++] = g;
    }
  }
  gramHitCount = k;
  return p;
}

function gramAt(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
}

/** Distinct grams at offsets 0..step-1 of the literals, counted on a sorted array (native sort). */
function countDistinct(long: readonly number[], literals: readonly Literal[], step: number): number {
  const grams = new Int32Array(long.length * step);
  let e = 0;
  for (const i of long) for (let off = 0; off < step; off++) grams[e++] = gramAt(literals[i]!.bytes, off);
  grams.sort();
  let n = 0;
  for (let i = 0; i < grams.length; i++) if (i === 0 || grams[i] !== grams[i - 1]) n++;
  return n;
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
