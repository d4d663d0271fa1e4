/**
 * Finding secret shapes in bytes without running every regex over every byte (that runs below 1 MB/s).
 *
 * 1. One pass over the buffer looks up the byte triple at every even offset in a hashed bitset of the
 *    keywords' triples (every keyword, 2 bytes or more, has one that falls on a sample); a hit is
 *    confirmed by comparing the keyword's bytes (exactly, or folded for ignoreCase rules). Most samples
 *    cost one table read.
 * 2. A confirmed keyword opens a window for each of its rules: `before` bytes back and `after` bytes past
 *    the keyword, clipped to the keyword's line unless the rule is multiline. Overlapping windows of one
 *    rule are merged, so a rule runs at most once over any byte.
 * 3. The rule's regex runs on the window (decoded as latin1, so string offsets are byte offsets), and each
 *    match is checked: entropy, length, character classes, excludes, and the universal template filter.
 * 4. Findings are sorted and overlapping ones merged (first rule's id), so nothing is left half-masked.
 *
 * Because windows of non-multiline rules never cross a newline, the findings in a buffer are the union of
 * the findings in its lines: ShapeStream relies on that to cut only at line ends.
 */
import { InternalError } from '../../errors.js';
import { splice } from '../splice.js';
import { charClasses, shannonEntropy } from './entropy.js';
import { ruleProblem, type ShapeRule } from './rule.js';

export interface ShapeFinding {
  start: number;
  end: number;
  ruleId: string;
}

interface RuleFields {
  id: string;
  ignoreCase: boolean;
  hasSecret: boolean;
  before: number;
  after: number;
  multiline: boolean;
  anchored: boolean;
  endsName: boolean;
  needs: number;
  needsStop: Uint8Array | null;
  needsWithin: number;
  entropy: number;
  minLength: number;
  classes: number;
}

/**
 * A rule ready to run. Its regular expressions are made when a keyword first leads to it: the ~150 of
 * the packaged set cost every exec ~0.5 ms, and most output meets few rules or none. (A user's rule has
 * been compiled once already, by ruleProblem, so a bad pattern never gets this far.)
 */
class CompiledRule implements RuleFields {
  declare id: string;
  declare ignoreCase: boolean;
  declare hasSecret: boolean;
  declare before: number;
  declare after: number;
  declare multiline: boolean;
  declare anchored: boolean;
  declare endsName: boolean;
  declare needs: number;
  declare needsStop: Uint8Array | null;
  declare needsWithin: number;
  declare entropy: number;
  declare minLength: number;
  declare classes: number;
  #re: RegExp | undefined;
  #exclude: RegExp[] | undefined;
  #excludeName: RegExp[] | undefined;

  constructor(private readonly rule: ShapeRule, private readonly flags: string, fields: RuleFields) {
    Object.assign(this, fields);
  }

  get re(): RegExp {
    return (this.#re ??= new RegExp(this.rule.pattern, this.flags));
  }

  get exclude(): RegExp[] {
    return (this.#exclude ??= (this.rule.exclude ?? []).map((src) => new RegExp(src, this.rule.ignoreCase ? 'i' : '')));
  }

  get excludeName(): RegExp[] {
    return (this.#excludeName ??= (this.rule.excludeName ?? []).map((src) => new RegExp(src, 'i')));
  }
}

interface KeywordEntry {
  /** For a keyword written `[class]rest`: the bytes allowed first (both cases when folded); else null. */
  first: Uint8Array | null;
  /** Folded bytes, for the first comparison (byte 0 is a placeholder when `first` is set). */
  folded: Uint8Array;
  /** Exact bytes when the keyword is case-sensitive; null when folded equality is enough. */
  exact: Uint8Array | null;
  rules: number[];
}

export interface ShapeSet {
  readonly rules: readonly CompiledRule[];
  readonly entries: readonly KeywordEntry[];
  /**
   * The keyword index the scan uses. Built on first use, not with the set: a 256 Ki-slot table and some
   * 15,000 hits for the packaged rules (about 9 ms before the JIT warms up), and most execs print little
   * or nothing, while every one of them makes a set.
   */
  readonly index: KeywordIndex;
  readonly ids: readonly string[];
  /** Rule id -> position in the set, for naming merged findings. */
  readonly rank: ReadonlyMap<string, number>;
  /** Longest window a multiline rule can need: the stream's cap for holding an open block. */
  readonly maxMultiline: number;
  /** The keyword entry that is exactly `-----BEGIN`, when a rule has it (see scanShapes). */
  readonly pemBegin: KeywordEntry | undefined;
}

/** The tables findShapes scans with (see compileShapes for how they are built). */
export interface KeywordIndex {
  /** Hashed byte triple -> 1 + index into groups; 0 when no keyword has that triple at offset -1, 0 or 1. */
  readonly triples: Uint16Array;
  /** The same as one bit per hash (32 KiB, stays in L1 cache): the hot loop reads only this. */
  readonly tripleBits: Uint8Array;
  /**
   * Per hash, the keywords holding such a triple (a group), flat, for the scan: group g's hits are
   * [hitStart[g-1], hitStart[g]), each the exact triple it stands for (compared first: most hits of a
   * 18-bit hash are other triples), its offset in the keyword, and the keyword.
   */
  readonly hitStart: Int32Array;
  readonly hitTriple: Int32Array;
  readonly hitOffset: Int32Array;
  readonly hitEntry: readonly KeywordEntry[];
  /**
   * Keywords of 2 or 3 bytes, one needle per spelling (indexed in the triples too, see buildIndex), each
   * with the exact entry its hits point to.
   */
  readonly short: readonly { needle: Buffer; entry: KeywordEntry; spelled: KeywordEntry }[];
  /** The 2-byte needles' entries: the last even position is checked for them after the scan. */
  readonly pairs: readonly KeywordEntry[];
}

/**
 * A set's keyword index as plain data, so the packaged set's can be computed at build time and embedded
 * (building it costs more start-up than reading it). `hits` is flat: triple, entry, offset, ...
 */
export interface ShapeIndex {
  entries: { first: number[] | null; folded: number[]; exact: number[] | null; rules: number[] }[];
  short: [number[], number][];
  /**
   * The finished tables, little-endian in base64, each at the width its values need: per group, its hash
   * slot (int32) and its number of hits (uint16); per hit, its triple (int32), its offset (int8) and its
   * keyword (uint16: an index into entries, or entries.length + i for the spelled entry of short needle
   * i). Building them from the keywords at each start ran the interpreter through some 7,000 hits: about
   * 7 ms of the first exec output to be scanned.
   */
  slots: string;
  groupHits: string;
  hitTriple: string;
  hitOffset: string;
  hitEntry: string;
}

export function exportIndex(set: ShapeSet): ShapeIndex {
  const { triples, hitStart, hitTriple, hitOffset, hitEntry, short } = set.index;
  const at = new Map<KeywordEntry, number>(set.entries.map((e, i) => [e, i]));
  short.forEach((s, i) => at.set(s.spelled, set.entries.length + i));
  const slots = new Int32Array(hitStart.length - 1);
  for (let k = 0; k < TRIPLE_SLOTS; k++) if (triples[k]! !== 0) slots[triples[k]! - 1] = k;
  return {
    entries: set.entries.map((e) => ({
      first: e.first ? classBytes(e.first) : null,
      folded: [...e.folded],
      exact: e.exact ? [...e.exact] : null,
      rules: [...e.rules],
    })),
    short: short.map((s) => [[...s.needle], at.get(s.entry)!]),
    slots: toBase64(slots),
    groupHits: toBase64(Uint16Array.from({ length: slots.length }, (_, g) => hitStart[g + 1]! - hitStart[g]!)),
    hitTriple: toBase64(hitTriple),
    hitOffset: toBase64(Int8Array.from(hitOffset)),
    hitEntry: toBase64(Uint16Array.from(hitEntry, (e) => at.get(e)!)),
  };
}

type Table = Int8Array | Uint16Array | Int32Array;
type TableOf<T extends Table> = { new (n: number): T; readonly BYTES_PER_ELEMENT: number };

/** A table's values, little-endian, in base64 (exportIndex; the checks say where a value would not fit). */
function toBase64(a: Table): string {
  const wide = a.BYTES_PER_ELEMENT;
  const v = new DataView(new ArrayBuffer(a.length * wide));
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (wide === 1) v.setInt8(i, x);
    else if (wide === 2) v.setUint16(i * 2, x, true);
    else v.setInt32(i * 4, x, true);
  }
  const out = Buffer.from(v.buffer).toString('base64');
  const back = fromBase64(out, a.constructor as TableOf<typeof a>);
  if (back.some((x, i) => x !== a[i])) throw new InternalError('a shape index value does not fit its table');
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A table of exportIndex back: one copy of the bytes where the machine is little-endian, as they were written. */
function fromBase64<T extends Table>(s: string, Of: TableOf<T>): T {
  const b = Buffer.from(s, 'base64');
  const wide = Of.BYTES_PER_ELEMENT;
  const a = new Of(b.length / wide);
  if (LITTLE_ENDIAN || wide === 1) new Uint8Array(a.buffer).set(b);
  else for (let i = 0; i < a.length; i++) a[i] = wide === 2 ? b.readUInt16LE(i * 2) : b.readInt32LE(i * 4);
  return a;
}

function entryFromPlain(e: ShapeIndex['entries'][number]): KeywordEntry {
  let first: Uint8Array | null = null;
  if (e.first) {
    first = new Uint8Array(256);
    for (const b of e.first) first[b] = 1;
  }
  return { first, folded: Uint8Array.from(e.folded), exact: e.exact ? Buffer.from(e.exact) : null, rules: e.rules };
}

const FOLD = new Uint8Array(256);
for (let i = 0; i < 256; i++) FOLD[i] = i >= 65 && i <= 90 ? i + 32 : i;
/** Bytes of a word for `anchor: word`: letters, digits, _ . + - */
const WORD = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-') WORD[c.charCodeAt(0)] = 1;

function classBytes(first: Uint8Array): number[] {
  const out: number[] = [];
  for (let b = 0; b < 256; b++) if (first[b] === 1) out.push(b);
  return out;
}

const ONE: number[][] = Array.from({ length: 256 }, (_, b) => [b]);
const TWO: number[][] = Array.from({ length: 256 }, (_, b) => (b >= 97 && b <= 122 ? [b, b - 32] : [b]));

/** The byte and, for a letter compared folded, its other case (shared arrays: callers only read). */
function variants(b: number, folded: boolean): number[] {
  return (folded ? TWO : ONE)[b]!;
}

function shortSpellings(kw: Uint8Array): Buffer[] {
  const lower = Buffer.from(kw);
  const upper = Buffer.from(kw.map((b) => (b >= 97 && b <= 122 ? b - 32 : b)));
  const capital = Buffer.from(lower);
  capital[0] = upper[0]!;
  const out = [lower, upper, capital];
  return out.filter((b, i) => out.findIndex((o) => o.equals(b)) === i);
}

/**
 * A keyword may start with one character class, `[a-z0-9]://`, which stands for one keyword per member:
 * a 4-byte keyword goes through the strided scan, where a 3-byte one needs a pass of its own.
 */
export function expandKeyword(kw: string): string[] {
  const m = /^\[([^\]]+)\](.+)$/s.exec(kw);
  if (!m) return [kw];
  return classMembers(m[1]!).map((c) => c + m[2]!);
}

function classMembers(cls: string): string[] {
  const chars: string[] = [];
  for (let i = 0; i < cls.length; i++) {
    if (cls[i + 1] === '-' && i + 2 < cls.length) {
      for (let c = cls.charCodeAt(i); c <= cls.charCodeAt(i + 2); c++) chars.push(String.fromCharCode(c));
      i += 2;
    } else chars.push(cls[i]!);
  }
  return chars;
}

function byteSet(chars: string): Uint8Array {
  const set = new Uint8Array(256);
  for (const b of Buffer.from(chars)) set[b] = 1;
  return set;
}

/** The byte checks of a rule (endsName, needs), on bytes, before any string or regex work. */
function gatesPass(rule: CompiledRule, buf: Buffer, end: number): boolean {
  const n = buf.length;
  if (rule.endsName) {
    // An `s` and up to two digits may end the name (tokens, key2). Without branches: the first such
    // suffix after this was compiled threw the code away (it ran for every `auth` in `Author:`).
    let i = end;
    i += i < n && (buf[i] === 115 || buf[i] === 83) ? 1 : 0;
    i += i < n && buf[i]! >= 48 && buf[i]! <= 57 ? 1 : 0;
    i += i < n && buf[i]! >= 48 && buf[i]! <= 57 ? 1 : 0;
    if (i < n && WORD[buf[i]!] === 1 && buf[i] !== 43) return false;
  }
  if (rule.needs >= 0) {
    const stop = rule.needsStop!;
    const limit = Math.min(n, end + rule.needsWithin);
    let i = end;
    for (; i < limit; i++) {
      const b = buf[i]!;
      if (b === rule.needs) break;
      if (stop[b] === 1 || b === 10) return false;
    }
    if (i >= limit) return false;
  }
  return true;
}

/**
 * Bits of the triple hash. 18, not 16: with the 2-3 byte needles indexed (about 3,000 triples), a 16-bit
 * table had 5% of its bits set and everyday log text (`request`, `fetching`, `Author:`) hit it on 6% of
 * samples, five in six of them collisions. The bitset is 32 KiB and stays in L1 cache.
 */
const TRIPLE_BITS = 18;
const TRIPLE_SLOTS = 1 << TRIPLE_BITS;
const TRIPLE_SHIFT = 32 - TRIPLE_BITS;

/** Three bytes as one number, the first in the high bits (what the scan loop computes). */
function tripleOf(a: number, b: number, c: number): number {
  return (a << 16) | (b << 8) | c;
}

/** Multiplicative hash of three bytes; the scan loop inlines the same expression. */
function tripleHash(a: number, b: number, c: number): number {
  return Math.imul(tripleOf(a, b, c), 0x9e3779b1) >>> TRIPLE_SHIFT;
}

/** One indexed triple: it is `triple`, found at `offset` in `entry`'s keyword. */
interface Hit {
  entry: KeywordEntry;
  offset: number;
  triple: number;
}

/**
 * Compile a rule set. `trusted` skips the per-rule validation (which compiles every regex eagerly): for
 * the packaged rules, which a test validates, so the exec path does not pay for it on every run.
 */
export function compileShapes(rules: readonly ShapeRule[], trusted = false, prebuilt?: ShapeIndex): ShapeSet {
  const compiled: CompiledRule[] = [];
  const entries = new Map<string, KeywordEntry>();
  const seen = new Set<string>();
  let maxMultiline = 0;
  for (const rule of rules) {
    const problem = trusted ? undefined : ruleProblem(rule);
    if (problem) throw new InternalError(`secret-shape ${problem}`);
    if (seen.has(rule.id)) throw new InternalError(`secret-shape rule ${rule.id} is defined twice`);
    seen.add(rule.id);
    const hasSecret = rule.pattern.includes('(?<secret>');
    const anchored = rule.anchor === 'word';
    const flags = `${anchored ? 'y' : 'g'}${rule.ignoreCase ? 'i' : ''}${hasSecret ? 'd' : ''}`;
    const index = compiled.length;
    const multiline = rule.multiline ?? false;
    const after = rule.after ?? 300;
    if (multiline) maxMultiline = Math.max(maxMultiline, after);
    compiled.push(new CompiledRule(rule, flags, {
      id: rule.id,
      ignoreCase: rule.ignoreCase ?? false,
      hasSecret,
      before: rule.before ?? 1,
      after,
      multiline,
      anchored,
      endsName: rule.endsName ?? false,
      needs: rule.needs ? Buffer.from(rule.needs.byte)[0]! : -1,
      needsStop: rule.needs ? byteSet(rule.needs.stop ?? '') : null,
      needsWithin: rule.needs?.within ?? 300,
      entropy: rule.entropy ?? 0,
      minLength: rule.minLength ?? 1,
      classes: rule.classes ?? 0,
    }));
    for (const written of prebuilt ? [] : rule.keywords) {
      // `[class]rest`: one entry whose first byte is checked against the class, so a hit on `rest` is
      // verified once rather than once per member.
      const cls = /^\[([^\]]+)\](.+)$/s.exec(written);
      const kw = cls ? `\u0000${cls[2]!}` : written;
      let first: Uint8Array | null = null;
      if (cls) {
        first = new Uint8Array(256);
        for (const c of classMembers(cls[1]!)) {
          const b = c.charCodeAt(0);
          first[b] = 1;
          if (rule.ignoreCase) first[FOLD[b]!] = first[b >= 97 && b <= 122 ? b - 32 : b] = 1;
        }
      }
      const bytes = Buffer.from(kw, 'utf8');
      const folded = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) folded[i] = FOLD[bytes[i]!]!;
      // Keywords without letters compare equal folded or not; case-sensitive rules compare exact bytes.
      const exact = rule.ignoreCase || !/[a-z]/i.test(kw) ? null : bytes;
      const key = `${written}\u0000${exact ? 'x' : 'f'}`;
      let e = entries.get(key);
      if (!e) entries.set(key, (e = { first, folded, exact, rules: [] }));
      if (!e.rules.includes(index)) e.rules.push(index);
    }
  }
  const list = prebuilt ? prebuilt.entries.map(entryFromPlain) : [...entries.values()];
  let index: KeywordIndex | undefined;
  return {
    rules: compiled,
    entries: list,
    get index() {
      return (index ??= buildIndex(list, prebuilt));
    },
    ids: compiled.map((r) => r.id),
    rank: new Map(compiled.map((r, i) => [r.id, i])),
    maxMultiline,
    pemBegin: list.find((e) => e.exact !== null && PEM_BEGIN.equals(e.exact)),
  };
}

/** The keyword index over a rule set's entries: the packaged set's tables, or computed. */
function buildIndex(list: KeywordEntry[], prebuilt: ShapeIndex | undefined): KeywordIndex {
  return prebuilt ? loadIndex(list, prebuilt) : computeIndex(list);
}

/** Exact entries for the 2-3 byte needles: each spelling is its own entry, so a hit is that spelling only. */
function spell(needle: Buffer, entry: KeywordEntry): KeywordEntry {
  return { first: null, folded: entry.folded, exact: needle, rules: entry.rules };
}

/** The packaged set's index as exportIndex wrote it at build time (scripts/gen-shape-rules.mjs). */
function loadIndex(list: KeywordEntry[], prebuilt: ShapeIndex): KeywordIndex {
  const short = prebuilt.short.map(([bytes, e]) => {
    const needle = Buffer.from(bytes);
    return { needle, entry: list[e]!, spelled: spell(needle, list[e]!) };
  });
  const slots = fromBase64(prebuilt.slots, Int32Array);
  const groupHits = fromBase64(prebuilt.groupHits, Uint16Array);
  const triples = new Uint16Array(TRIPLE_SLOTS);
  const tripleBits = new Uint8Array(TRIPLE_SLOTS >>> 3);
  const hitStart = new Int32Array(slots.length + 1);
  for (let g = 0; g < slots.length; g++) {
    const k = slots[g]!;
    triples[k] = g + 1;
    tripleBits[k >> 3] = tripleBits[k >> 3]! | (1 << (k & 7));
    hitStart[g + 1] = hitStart[g]! + groupHits[g]!;
  }
  const entryAt = (i: number) => (i < list.length ? list[i]! : short[i - list.length]!.spelled);
  return {
    triples,
    tripleBits,
    hitStart,
    hitTriple: fromBase64(prebuilt.hitTriple, Int32Array),
    hitOffset: Int32Array.from(fromBase64(prebuilt.hitOffset, Int8Array)),
    hitEntry: Array.from(fromBase64(prebuilt.hitEntry, Uint16Array), entryAt),
    short,
    pairs: short.filter((x) => x.needle.length === 2).map((x) => x.spelled),
  };
}

function computeIndex(list: KeywordEntry[]): KeywordIndex {
  const triples = new Uint16Array(TRIPLE_SLOTS);
  const tripleBits = new Uint8Array(TRIPLE_SLOTS >>> 3);
  const groups: Hit[][] = [];
  const short: { needle: Buffer; entry: KeywordEntry; spelled: KeywordEntry }[] = [];
  const needles: { needle: Buffer; entry: KeywordEntry }[] = [];
  const addHit = (triple: number, entry: KeywordEntry, offset: number) => {
    const k = tripleHash(triple >>> 16, (triple >>> 8) & 0xff, triple & 0xff);
    let g = triples[k]!;
    if (g === 0) {
      groups.push([]);
      g = triples[k] = groups.length;
      tripleBits[k >> 3] = tripleBits[k >> 3]! | (1 << (k & 7));
    }
    const group = groups[g - 1]!;
    if (!group.some((h) => h.entry === entry && h.offset === offset && h.triple === triple)) group.push({ entry, offset, triple });
  };
  const pairs: KeywordEntry[] = [];
  for (const entry of list) {
    const kw = entry.exact ?? entry.folded;
    const fold = entry.exact === null;
    if (kw.length < 4) {
      if (entry.first) throw new InternalError('a keyword with a leading class must be 4 or more bytes');
      // One needle per spelling (lower, UPPER, Capitalized when folded), indexed below.
      for (const needle of fold ? shortSpellings(kw) : [Buffer.from(kw)]) needles.push({ needle, entry });
      continue;
    }
    // The scan samples the triple at every even offset. A keyword of 4+ bytes has a triple starting at
    // offset 0 or 1 that falls on a sample, so both are indexed, in every case spelling compared folded.
    for (let offset = 0; offset < 2; offset++) {
      const heads = offset === 0 && entry.first ? classBytes(entry.first) : variants(kw[offset]!, fold);
      // A class head already lists both cases where they count; the two bytes after it are spelled.
      const seconds = variants(kw[offset + 1]!, fold);
      const thirds = variants(kw[offset + 2]!, fold);
      for (const a of heads) for (const b of seconds) for (const c of thirds) addHit(tripleOf(a, b, c), entry, offset);
    }
  }
  // 2-3 byte keywords go through the same strided scan (a pass of Buffer.indexOf per needle cost as much
  // as the scan itself): the sample at even i holds a needle starting at i as its first bytes (any third
  // byte for a 2-byte needle) and one starting at i+1 as its last two (any first byte), so both are
  // indexed, 257 or 512 triples a needle. Each spelling is its own exact entry, so a hit is that
  // spelling and nothing else. The one position no sample covers, a 2-byte needle at an even n-2, is
  // checked after the scan (see findShapes).
  for (const { needle, entry } of needles) {
    const spelled = spell(needle, entry);
    short.push({ needle, entry, spelled });
    const [a, b] = [needle[0]!, needle[1]!];
    for (let x = 0; x < 256; x++) {
      if (needle.length === 2) addHit(tripleOf(a, b, x), spelled, 0);
      addHit(tripleOf(x, a, b), spelled, -1);
    }
    if (needle.length === 3) addHit(tripleOf(a, b, needle[2]!), spelled, 0);
    if (needle.length === 2) pairs.push(spelled);
  }
  const hitStart = new Int32Array(groups.length + 1);
  for (let g = 0; g < groups.length; g++) hitStart[g + 1] = hitStart[g]! + groups[g]!.length;
  const flat = groups.flat();
  const hitTriple = Int32Array.from(flat, (h) => h.triple);
  const hitOffset = Int32Array.from(flat, (h) => h.offset);
  const hitEntry = flat.map((h) => h.entry);
  return { triples, tripleBits, hitStart, hitTriple, hitOffset, hitEntry, short, pairs };
}

/**
 * A value that only refers to a secret (`$TOKEN`, `${{ secrets.X }}`, `<your key>`, `%PASS%`), or one the
 * value redactor already replaced (`[REDACTED:NAME]`, which keeps its more useful name): not one.
 */
const TEMPLATE = /^(?:\$[\w({]|<[^>]*>?$|\{\{|%[\w.-]+%?$|#\{|@\{|\*{3,}$|\[REDACTED:)/;

function accept(rule: CompiledRule, secret: string, name: string | undefined): boolean {
  if (secret.length < rule.minLength) return false;
  if (TEMPLATE.test(secret)) return false;
  if (rule.entropy > 0 && shannonEntropy(secret) < rule.entropy) return false;
  if (rule.classes > 0 && charClasses(secret) < rule.classes) return false;
  for (const re of rule.exclude) if (re.test(secret)) return false;
  if (name !== undefined) for (const re of rule.excludeName) if (re.test(name)) return false;
  return true;
}

function runRule(rule: CompiledRule, buf: Buffer, s: number, e: number, out: ShapeFinding[], final: boolean): void {
  const text = buf.toString('latin1', s, e);
  const re = rule.re;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (rule.anchored) re.lastIndex = text.length;
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    let start = m.index;
    let end = start + m[0].length;
    let secret = m[0];
    if (rule.hasSecret) {
      const span = m.indices?.groups?.secret;
      if (!span) continue;
      [start, end] = span;
      secret = m.groups!.secret!;
      // Resume right after the secret, not after the whole match, so a second assignment whose name
      // the pattern consumed as context still gets its own chance.
      if (!rule.anchored) re.lastIndex = Math.max(end, m.index + 1);
    }
    if (!accept(rule, secret, m.groups?.name)) {
      if (!rule.anchored) re.lastIndex = m.index + 1;
      continue;
    }
    if (!final && rule.multiline && s + m.index + m[0].length === buf.length) continue;
    out.push({ start: s + start, end: s + end, ruleId: rule.id });
  }
}

function matchesAt(buf: Buffer, at: number, entry: KeywordEntry): boolean {
  const kw = entry.exact ?? entry.folded;
  if (at < 0 || at + kw.length > buf.length) return false;
  let j = 0;
  if (entry.first !== null) {
    if (entry.first[buf[at]!] !== 1) return false;
    j = 1;
  }
  if (entry.exact !== null) {
    for (; j < kw.length; j++) if (buf[at + j] !== kw[j]) return false;
  } else {
    for (; j < kw.length; j++) if (FOLD[buf[at + j]!] !== kw[j]) return false;
  }
  return true;
}

/**
 * Every secret shape in a complete buffer: sorted, non-overlapping, spans of the secret parts only.
 * `final` says the buffer's end is the end of the output: only then may a multiline rule's match end
 * there (an unterminated PEM block at the end is masked; in the middle of a stream it is not over yet).
 */
export function findShapes(set: ShapeSet, buf: Buffer, final = true): ShapeFinding[] {
  return scanShapes(set, buf, final).findings;
}

const PEM_BEGIN = Buffer.from('-----BEGIN');

/**
 * findShapes, and whether the scan met `-----BEGIN` (always true when no rule has that keyword): the
 * stream must hold an unfinished PEM block, and when the keyword scan saw no BEGIN there is none, so it
 * does not search the buffer for one again.
 */
export function scanShapes(set: ShapeSet, buf: Buffer, final = true): { findings: ShapeFinding[]; sawPemBegin: boolean } {
  const n = buf.length;
  if (n < 2) return { findings: [], sawPemBegin: set.pemBegin === undefined };
  const { rules } = set;
  const sc: Scan = {
    set,
    buf,
    final,
    // Per rule, the window waiting to be searched; overlapping windows of a rule are merged so no byte is
    // searched twice by one rule. Anchored rules try once per word start instead.
    pendS: new Int32Array(rules.length).fill(-1),
    pendE: new Int32Array(rules.length).fill(-1),
    raw: [],
    lineS: 0,
    lineE: -1,
    sawPemBegin: set.pemBegin === undefined,
  };
  // In slices, so the keyword loop returns often: a cold process (`outloop redact`, an exec's output)
  // gets it optimized within the first slice and keeps it so. One call per 1 MiB write was compiled on
  // stack mid-loop, before the code after the loop had ever run, and thrown away on reaching it.
  const last = n - 2;
  for (let from = 0; from < last; from += SCAN_SLICE) scanKeywords(sc, from, Math.min(last, from + SCAN_SLICE));
  if ((n & 1) === 0) for (const entry of set.index.pairs) if (matchesAt(buf, n - 2, entry)) openWindows(sc, n - 2, entry);
  const { pendS, pendE, raw } = sc;
  for (let r = 0; r < rules.length; r++) if (pendE[r]! >= 0 && !rules[r]!.anchored) runRule(rules[r]!, buf, pendS[r]!, pendE[r]!, raw, final);
  return { findings: mergeFindings(raw, set.rank), sawPemBegin: sc.sawPemBegin };
}

/** Bytes per call of the keyword loop (even: the stride-2 samples fall where one whole pass puts them). */
const SCAN_SLICE = 1 << 16;

/** One scanShapes call's state, passed to plain functions rather than closed over (see scanShapes). */
interface Scan {
  readonly set: ShapeSet;
  readonly buf: Buffer;
  readonly final: boolean;
  readonly pendS: Int32Array;
  readonly pendE: Int32Array;
  readonly raw: ShapeFinding[];
  /**
   * The line holding the last hit, [lineS, lineE): hits mostly come in order, so each newline search
   * covers new ground (lastIndexOf stops at the previous line's newline) and a scan stays linear.
   */
  lineS: number;
  lineE: number;
  sawPemBegin: boolean;
}

/**
 * Bitset hits of the sample loop, as (position, triple) pairs, confirmed after it (see scanKeywords).
 * Bounded: a slice whose every sample hits is taken in several rounds.
 */
const HIT_ROOM = 8192;
const hitScratch = new Int32Array(HIT_ROOM);
/** How many ints collectHits wrote to hitScratch on its last call (a number, not an object: per slice). */
let hitCount = 0;

/**
 * The keyword samples at the even offsets in [from, to), in two steps. The loop only reads bytes and
 * the bitset and writes its hits down; confirming them (matchesAt, openWindows) comes after it. With
 * the confirmation inlined, the loop's optimized code was thrown away whenever a path in it ran for
 * the first time (a rule's gate, a multiline rule: "insufficient type feedback"), and a cold process
 * (`outloop redact`, an exec's first output) ran slice after slice in the interpreter. For the same
 * reason the last samples, past the last whole word, are taken here and not in the loop's function:
 * a path there first runs after that function is compiled, at the end of its first call.
 */
function scanKeywords(sc: Scan, from: number, to: number): void {
  const index = sc.set.index;
  const bytes = sc.buf;
  // Four samples a step while all are in range and the byte after the two words exists (i + 8 < length).
  const stepsTo = Math.min(to - 6, bytes.length - 8);
  let i = from;
  while (i < stepsTo) {
    i = collectHits(index, bytes, i, stepsTo);
    for (let j = 0; j < hitCount; j += 2) hitsAt(sc, index, hitScratch[j]!, hitScratch[j + 1]!);
  }
  for (; i < to; i += 2) {
    const t = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    const k = Math.imul(t, 0x9e3779b1) >>> TRIPLE_SHIFT;
    if ((index.tripleBits[k >> 3]! & (1 << (k & 7))) !== 0) hitsAt(sc, index, i, t);
  }
}

/**
 * The samples at i, i + 2, i + 4 and i + 6 for i = from, from + 8, ... below `to` whose hash is in the
 * bitset, written to hitScratch until it is full; returns where it stopped. All four from two 4-byte
 * reads (a DataView reads them unaligned and big-endian, so the first byte lands in the high bits as in
 * tripleOf; signed, so no read is a heap number before the loop is optimized) and the byte after them:
 * three bounds-checked byte loads per sample were most of the scan. (Checking a hit's group here for
 * the very triple, which would halve them, cost more than it saved.)
 */
function collectHits(index: KeywordIndex, bytes: Buffer, from: number, to: number): number {
  const { tripleBits } = index;
  const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const room = HIT_ROOM - 8;
  let n = 0;
  let i = from;
  for (; i < to && n <= room; i += 8) {
    const w = words.getInt32(i);
    const x = words.getInt32(i + 4);
    const t0 = w >>> 8;
    const k0 = Math.imul(t0, 0x9e3779b1) >>> TRIPLE_SHIFT;
    if ((tripleBits[k0 >> 3]! & (1 << (k0 & 7))) !== 0) {
      hitScratch[n++] = i;
      hitScratch[n++] = t0;
    }
    const t1 = ((w & 0xffff) << 8) | (x >>> 24);
    const k1 = Math.imul(t1, 0x9e3779b1) >>> TRIPLE_SHIFT;
    if ((tripleBits[k1 >> 3]! & (1 << (k1 & 7))) !== 0) {
      hitScratch[n++] = i + 2;
      hitScratch[n++] = t1;
    }
    const t2 = x >>> 8;
    const k2 = Math.imul(t2, 0x9e3779b1) >>> TRIPLE_SHIFT;
    if ((tripleBits[k2 >> 3]! & (1 << (k2 & 7))) !== 0) {
      hitScratch[n++] = i + 4;
      hitScratch[n++] = t2;
    }
    const t3 = ((x & 0xffff) << 8) | bytes[i + 8]!;
    const k3 = Math.imul(t3, 0x9e3779b1) >>> TRIPLE_SHIFT;
    if ((tripleBits[k3 >> 3]! & (1 << (k3 & 7))) !== 0) {
      hitScratch[n++] = i + 6;
      hitScratch[n++] = t3;
    }
  }
  hitCount = n;
  return i;
}

/** The sample at i is triple t, whose hash is set in the bitset: confirm the keywords that have it. */
function hitsAt(sc: Scan, index: KeywordIndex, i: number, t: number): void {
  const { triples, hitStart, hitTriple, hitOffset, hitEntry } = index;
  const g = triples[Math.imul(t, 0x9e3779b1) >>> TRIPLE_SHIFT]!;
  for (let h = hitStart[g - 1]!, e = hitStart[g]!; h < e; h++) {
    if (hitTriple[h] !== t) continue;
    const at = i - hitOffset[h]!;
    if (matchesAt(sc.buf, at, hitEntry[h]!)) openWindows(sc, at, hitEntry[h]!);
  }
}

/** A keyword confirmed at p: each of its rules whose gates pass gets (or widens) its window. */
function openWindows(sc: Scan, p: number, entry: KeywordEntry): void {
  if (entry === sc.set.pemBegin) sc.sawPemBegin = true;
  const { rules } = sc.set;
  const len = entry.folded.length;
  for (const r of entry.rules) {
    const rule = rules[r]!;
    if ((rule.endsName || rule.needs >= 0) && !gatesPass(rule, sc.buf, p + len)) continue;
    openWindow(sc, r, rule, p, len);
  }
}

/**
 * Rule r's window for its keyword at p (len bytes), whose gates passed: merged with the rule's pending
 * window, or searched now. Apart from openWindows, which runs for every confirmed keyword and mostly
 * stops at the gates, so that this code's rarer paths (multiline and anchored rules) running for the
 * first time do not throw that loop's optimized code away.
 */
function openWindow(sc: Scan, r: number, rule: CompiledRule, p: number, len: number): void {
  const { buf, pendS, pendE } = sc;
  const n = buf.length;
  let s = p - rule.before;
  let e = p + len + rule.after;
  if (rule.multiline) {
    if (s < 0) s = 0;
    if (e > n) e = n;
  } else {
    // The line is found only for a keyword whose gates passed: most confirmed keywords (`Author:`
    // for `auth`, `https://` without a password) fail them.
    if (p < sc.lineS || p >= sc.lineE) {
      sc.lineS = p === 0 ? 0 : buf.lastIndexOf(10, p - 1) + 1;
      sc.lineE = buf.indexOf(10, p);
      if (sc.lineE < 0) sc.lineE = n;
    }
    if (s < sc.lineS) s = sc.lineS;
    if (e > sc.lineE) e = sc.lineE;
  }
  if (rule.anchored) {
    let w = p;
    while (w > s && WORD[buf[w - 1]!] === 1) w--;
    s = w;
    if (pendS[r] !== s) {
      pendS[r] = s;
      runRule(rule, buf, s, e, sc.raw, sc.final);
    }
  } else if (pendE[r]! >= 0 && s <= pendE[r]! && e >= pendS[r]!) {
    if (s < pendS[r]!) pendS[r] = s;
    if (e > pendE[r]!) pendE[r] = e;
  } else {
    if (pendE[r]! >= 0) runRule(rule, buf, pendS[r]!, pendE[r]!, sc.raw, sc.final);
    pendS[r] = s;
    pendE[r] = e;
  }
}

/**
 * Sort, and merge overlapping findings into one so no fragment stays clear. The merged finding is named
 * by the rule listed first in the set, so a specific rule (github-pat) wins over the generic assignment
 * rules listed last, whichever matched first.
 */
export function mergeFindings(raw: ShapeFinding[], rank?: ReadonlyMap<string, number>): ShapeFinding[] {
  if (raw.length <= 1) return raw;
  raw.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: ShapeFinding[] = [];
  let cur = { ...raw[0]! };
  for (let i = 1; i < raw.length; i++) {
    const f = raw[i]!;
    if (f.start < cur.end) {
      if (f.end > cur.end) cur.end = f.end;
      if (rank && rank.get(f.ruleId)! < rank.get(cur.ruleId)!) cur.ruleId = f.ruleId;
    } else {
      out.push(cur);
      cur = { ...f };
    }
  }
  out.push(cur);
  return out;
}

const LABELS = new Map<string, Buffer>();
export function labelFor(ruleId: string): Buffer {
  let b = LABELS.get(ruleId);
  if (!b) LABELS.set(ruleId, (b = Buffer.from(`[REDACTED:${ruleId}]`)));
  return b;
}

/** The buffer with each finding replaced by [REDACTED:<rule-id>]; the input itself when nothing matched. */
export function renderShapes(buf: Buffer, findings: readonly ShapeFinding[]): Buffer {
  return findings.length === 0 ? buf : splice(buf, findings, (f) => labelFor(f.ruleId));
}

/** What `\b` counts as a word character. */
const REGEX_WORD = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_') REGEX_WORD[c.charCodeAt(0)] = 1;

/**
 * The rule of the first keyword in `buf` that belongs to a case-sensitive rule (a token prefix such as
 * ghp_ or eyJ, as opposed to a label such as `token` in an assignment), or of a prefix of such a keyword
 * cut off by the end of `buf` (the rest may be on its way); undefined when there is none. Only used on a
 * pause, on one short word, so a plain loop is fine.
 */
export function prefixRuleIn(set: ShapeSet, buf: Buffer): string | undefined {
  const seen = new Set<KeywordEntry>();
  const known = new Set(set.entries);
  // The needles' spelled entries (see buildIndex) are the `short` entries below, in their place.
  for (const entry of set.index.hitEntry) if (known.has(entry)) seen.add(entry);
  for (const { entry } of set.index.short) seen.add(entry);
  const prefixRules = [...seen].filter((e) => e.rules.some((r) => !set.rules[r]!.ignoreCase));
  for (let p = 0; p < buf.length; p++) {
    for (const entry of prefixRules) {
      const kw = entry.exact ?? entry.folded;
      const avail = Math.min(kw.length, buf.length - p);
      if (avail < kw.length && avail < 2) continue;
      // A keyword cut off by the pause counts only where a token can start: the rules put \b before
      // their keyword, so the `be` ending `acme_39a2b92e69070be` is no start of `bedrock-api-key-`.
      if (avail < kw.length && p > 0 && REGEX_WORD[buf[p - 1]!]) continue;
      let ok = true;
      for (let j = 0; j < avail && ok; j++) ok = (entry.exact ? buf[p + j] : FOLD[buf[p + j]!]) === kw[j];
      if (ok) return set.rules[entry.rules.find((r) => !set.rules[r]!.ignoreCase)!]!.id;
    }
  }
  return undefined;
}
