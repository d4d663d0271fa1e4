/**
 * Values inside hex dumps: `hexdump -C` and `xxd` rows (an offset, 16 bytes as spaced hex pairs or
 * quads, an ASCII column). The value is cut into 16-byte rows with offsets and an ASCII column between
 * its pieces, so no literal can match; this stage decodes each run of consecutive rows back to bytes,
 * looks for whole values and forms there, and writes every row that holds part of one as its offset and
 * `[REDACTED:NAME]` (hex and ASCII column both go).
 *
 * The rules, identical for a whole buffer and for any chunking (only pauses depend on timing):
 * - A row is a line starting with 0 and 6 or 7 more hex digits (an offset under 256 MiB), then `: ` (xxd) or two spaces (hexdump -C), then
 *   1 to 16 bytes as hex pairs or quads separated by one or two spaces; the rest (the ASCII column) is
 *   not read, so a column the values stage already masked does not end the run.
 * - Rows are held while the run lasts. A line that is not a row ends it: the run is decoded, matched
 *   and written, then the line. A run longer than MAX_ROWS is written but for its last rows, which stay
 *   as the start of the next piece, so a value across that cut is still seen whole.
 * - Other output passes at once, except a last partial line that could still become a row (up to
 *   10 bytes: the offset and its separator).
 * - A pause (idle) writes the held rows under the same check and ends the run; only whole values and
 *   whole forms are masked (the dump is caller-shaped in `outloop redact`).
 */
import { InternalError } from '../errors.js';
import type { Matcher } from './matcher.js';
import { candidatesIn, replacementFor, selectRegions } from './regions.js';
import type { RedactorStream } from './stream.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
export const MAX_ROWS = 4096;

interface Row {
  raw: Buffer;
  /** The offset column as printed, to keep on a masked row. */
  offset: Buffer;
  bytes: Buffer;
  masked: string[] | null;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const isHex = (b: number | undefined): boolean => b !== undefined && HEX[b]! >= 0;

/** Where the hex groups of a row start (after the offset and its separator), or -1 when `line` is no row. */
function groupsStart(line: Buffer): number {
  if (line[0] !== 0x30) return -1;
  let i = 0;
  while (i < 8 && isHex(line[i])) i++;
  if (i < 7) return -1;
  if (line[i] === 0x3a && line[i + 1] === 0x20) return i + 2;
  if (line[i] === 0x20 && line[i + 1] === 0x20) return i + 2;
  return -1;
}

/** A complete line (no \n) as a dump row, or undefined. */
export function parseRow(line: Buffer): Omit<Row, 'raw' | 'masked'> | undefined {
  const g = groupsStart(line);
  if (g < 0) return undefined;
  const out: number[] = [];
  let i = g;
  while (out.length < 16) {
    // A group: 2 or 4 hex digits, ended by a space or the line's end.
    let j = i;
    while (isHex(line[j]) && j - i < 4) j++;
    const len = j - i;
    if ((len !== 2 && len !== 4) || (j < line.length && line[j] !== 0x20)) break;
    for (let k = i; k < j; k += 2) out.push((HEX[line[k]!]! << 4) | HEX[line[k + 1]!]!);
    // One or two spaces to the next group; more is the padding before the ASCII column.
    if (line[j + 1] !== 0x20 && isHex(line[j + 1])) i = j + 1;
    else if (line[j + 1] === 0x20 && line[j + 2] !== 0x20 && isHex(line[j + 2])) i = j + 2;
    else break;
  }
  if (out.length === 0 || out.length > 16) return undefined;
  return { offset: line.subarray(0, g), bytes: Buffer.from(out) };
}

/** Could this partial line (no \n yet) still turn out to be a row? */
function mayBeRow(tail: Buffer): boolean {
  if (tail[0] !== 0x30) return false;
  if (tail.length > 10) return groupsStart(tail) >= 0;
  let i = 0;
  while (i < tail.length && i < 8 && isHex(tail[i])) i++;
  if (i === tail.length) return true;
  if (i < 7) return false;
  const rest = tail.toString('latin1', i);
  return rest === ':' || rest === ' ' || rest === ': ' || rest === '  ' || groupsStart(tail) >= 0;
}

export class DumpStream implements RedactorStream {
  readonly #matcher: Matcher;
  /** Rows of the current run, not written yet. */
  #rows: Row[] = [];
  /** A partial last line held: inside a run, or one that may start a row. */
  #tail: Buffer = EMPTY;
  #count = 0;
  #ended = false;
  /** Rows kept as the start of the next piece when a long run is cut. */
  readonly #keep: number;
  /** The output written so far ends at a line start (so the next bytes may begin a row). */
  #atLineStart = true;

  constructor(matcher: Matcher) {
    this.#matcher = matcher;
    this.#keep = Math.ceil(matcher.maxLength / 16) + 1;
  }

  get count(): number {
    return this.#count;
  }

  get pending(): number {
    return this.#tail.length + this.#rows.reduce((n, r) => n + r.raw.length, 0);
  }

  push(chunk: Uint8Array): Buffer {
    if (this.#ended) throw new InternalError('dump stream written after end');
    const input = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (input.length === 0) return EMPTY;
    const buf = this.#tail.length === 0 ? input : Buffer.concat([this.#tail, input]);
    this.#tail = EMPTY;
    const out: Buffer[] = [];
    let at = 0;
    // Bytes from `pass` to `at` go out as they are: written in one piece when the run (or the end) comes.
    let pass = 0;
    while (at < buf.length) {
      if (this.#rows.length === 0) {
        if (!this.#atLineStart) {
          // The rest of a line already partly written: not a row.
          const nl = buf.indexOf(LF, at);
          this.#atLineStart = nl !== -1;
          at = nl === -1 ? buf.length : nl + 1;
          continue;
        }
        const start = nextRowStart(buf, at);
        if (start === -1) {
          const last = Math.max(at, buf.lastIndexOf(LF) + 1);
          const partial = buf.subarray(last);
          if (partial.length > 0 && mayBeRow(partial)) {
            out.push(buf.subarray(pass, last));
            this.#tail = Buffer.from(partial);
          } else {
            out.push(buf.subarray(pass));
            this.#atLineStart = partial.length === 0;
          }
          pass = at = buf.length;
          break;
        }
        if (start > pass) out.push(buf.subarray(pass, start));
        pass = at = start;
      }
      // `at` starts a line: a row of the run, or a candidate for the first one.
      const nl = buf.indexOf(LF, at);
      if (nl === -1) {
        const rest = buf.subarray(at);
        if (this.#rows.length > 0 || mayBeRow(rest)) this.#tail = Buffer.from(rest);
        else {
          out.push(rest);
          this.#atLineStart = false;
        }
        pass = buf.length;
        break;
      }
      const row = parseRow(buf.subarray(at, nl));
      if (row === undefined) {
        out.push(this.#flush(this.#rows.length), buf.subarray(at, nl + 1));
      } else {
        this.#rows.push({ offset: Buffer.from(row.offset), bytes: row.bytes, raw: Buffer.from(buf.subarray(at, nl + 1)), masked: null });
        if (this.#rows.length > MAX_ROWS) out.push(this.#flush(this.#rows.length - this.#keep));
      }
      pass = at = nl + 1;
    }
    if (pass < buf.length) out.push(buf.subarray(pass));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  idle(): Buffer {
    if (this.#ended) return EMPTY;
    return this.#drain();
  }

  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    return this.#drain();
  }

  /** Everything held, the partial last line taken as a complete one. */
  #drain(): Buffer {
    const tail = this.#tail;
    this.#tail = EMPTY;
    const row = tail.length > 0 ? parseRow(tail) : undefined;
    if (row !== undefined) this.#rows.push({ offset: Buffer.from(row.offset), bytes: row.bytes, raw: tail, masked: null });
    const out = this.#flush(this.#rows.length);
    if (tail.length > 0) this.#atLineStart = false;
    return row === undefined && tail.length > 0 ? Buffer.concat([out, tail]) : out;
  }

  /**
   * Match over all held rows, write the first `n` (masked where they hold part of a value), keep the
   * rest as the start of the next piece. A region is counted when the row it starts in is written; one
   * that starts in a kept row is found again, whole, with the rows that follow.
   */
  #flush(n: number): Buffer {
    if (this.#rows.length === 0) return EMPTY;
    const rows = this.#rows;
    const decoded = Buffer.concat(rows.map((r) => r.bytes));
    const regions = selectRegions(candidatesIn(this.#matcher, decoded, true, 'off'), this.#matcher.literals);
    const written = rows.slice(0, n).reduce((sum, r) => sum + r.bytes.length, 0);
    let start = 0;
    for (const r of rows) {
      const end = start + r.bytes.length;
      for (const reg of regions) {
        if (reg.start >= end || reg.end <= start) continue;
        r.masked ??= [];
        for (const l of reg.labels) if (!r.masked.includes(l)) r.masked.push(l);
      }
      start = end;
    }
    for (const reg of regions) if (reg.start < written) this.#count += reg.count;
    const parts: Buffer[] = [];
    for (const r of rows.slice(0, n)) {
      if (r.masked === null) parts.push(r.raw);
      else parts.push(r.offset, Buffer.from(replacementFor({ start: 0, end: 0, labels: r.masked, count: 0 })), r.raw[r.raw.length - 1] === LF ? NL : EMPTY);
    }
    this.#rows = rows.slice(n);
    return Buffer.concat(parts);
  }
}

const NL = Buffer.from('\n');

const LINE_ZERO = Buffer.from('\n0');

/**
 * Can a whole buffer hold a dump row? Every row (and every partial line that may become one) begins
 * with 0 at a line start; without one the stage passes the buffer unchanged and counts nothing.
 */
export function mayHoldRows(buf: Buffer): boolean {
  return buf[0] === 0x30 || buf.indexOf(LINE_ZERO) !== -1;
}

/** Start of the next line (from `from`, at a line start) that begins as a row does, or -1. */
function nextRowStart(buf: Buffer, from: number): number {
  // Offsets are printed with leading zeros (8 digits), so a row begins with "0" in any dump under
  // 256 MiB: one native search for a line starting with 0, then the exact check there.
  const isRow = (ls: number) => groupsStart(buf.subarray(ls, Math.min(buf.length, ls + 10))) >= 0;
  if (buf[from] === 0x30 && isRow(from)) return from;
  for (let at = buf.indexOf(LINE_ZERO, from); at !== -1; at = buf.indexOf(LINE_ZERO, at + 1)) if (isRow(at + 1)) return at + 1;
  return -1;
}
