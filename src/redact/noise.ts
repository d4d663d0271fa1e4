/**
 * Terminal noise, separated from content before matching. The matcher sees a *view* of the output with
 * the bytes a reader never sees as text removed, so a value interrupted by them is still one match:
 *
 * - ANSI/ECMA-48 escape sequences: CSI (`ESC [` params intermediates final: colours, erase-line,
 *   cursor moves), string sequences (`ESC ]` OSC such as OSC 8 hyperlinks, `ESC P` DCS, `ESC _` APC,
 *   `ESC ^` PM, `ESC X` SOS) ended by BEL or `ESC \`, and two-byte or nF escapes (`ESC 7`, `ESC ( B`).
 *   As in a terminal, an ESC inside a sequence aborts it (nothing of it is shown) and starts the next.
 *   A string sequence's payload (a hyperlink's URL) is itself redacted in place before it is passed on,
 *   since a URL can carry a secret. An ESC that does not start a well-formed sequence within
 *   MAX_ESCAPE_BYTES is ordinary content.
 * - The line break (`\n` or `\r\n`) after a line of WRAP_MIN_COLUMNS to WRAP_MAX_COLUMNS base64/base64url
 *   characters and nothing else: `base64` wraps at 76, PEM at 64, so an encoded value that crosses a
 *   wrap is still one match. Other line breaks stay in the view (a value split across ordinary lines
 *   is not joined). The upper bound is what keeps the check cheap: a longer line is no wrapped output,
 *   and once a line is past it nothing more of that line is looked at (a 16 MiB body on one line of
 *   base64-looking bytes was walked byte by byte on every write).
 *
 * Skipped bytes are never dropped from the output: those inside a masked region are written right after
 * its replacement (escape sequences only, so colours survive; a skipped wrap break inside an encoded
 * value goes with the value), and all others pass through untouched.
 *
 * The tokenizer is a deterministic state machine over bytes, so any chunking of the input gives the same
 * pieces in total: an escape sequence (or a `\r` that may precede a skipped `\n`) split across writes is
 * held until it completes.
 */

export const MAX_ESCAPE_BYTES = 4096;
export const WRAP_MIN_COLUMNS = 60;
/** Widest line whose break is taken as a wrap: far above any wrapper's width (76, 64, `base64 -w` choices). */
export const WRAP_MAX_COLUMNS = 4096;

const ESC = 0x1b;
const BEL = 0x07;
const LF = 0x0a;
const CR = 0x0d;

/** base64 and base64url characters (no `=`: padding ends an encoded block, so its line break is real). */
const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') B64[c.charCodeAt(0)] = 1;

/**
 * Tokenized output: `raw` is what will be written (string-sequence payloads already redacted), `view` is
 * raw minus skipped bytes. Segment k maps view[segV[k], segV[k+1]) onto raw from segR[k]; the raw bytes
 * between segments are skipped bytes.
 */
export interface Piece {
  raw: Buffer;
  view: Buffer;
  segV: number[];
  segR: number[];
}

/** Redacts a complete string-sequence payload; returns the bytes to write and how many were masked. */
export type PayloadScrubber = (payload: Buffer) => { output: Buffer; count: number };

const PARTIAL = -1;
const INVALID = -2;
const isStringIntro = (b: number): boolean => b === 0x5d || b === 0x50 || b === 0x5f || b === 0x5e || b === 0x58;

/**
 * Parse an escape sequence starting at buf[at] === ESC: its end, or PARTIAL (may complete with more
 * bytes) or INVALID (not a sequence: the ESC is content). Numbers, not objects: this runs per escape.
 */
function scanEscape(buf: Buffer, at: number): number {
  const n = buf.length;
  const limit = Math.min(n, at + MAX_ESCAPE_BYTES);
  if (at + 1 >= n) return PARTIAL;
  const b = buf[at + 1]!;
  if (b === 0x5b) {
    // CSI: parameter bytes 0x30-0x3f, intermediate bytes 0x20-0x2f, one final byte 0x40-0x7e.
    let i = at + 2;
    while (i < limit && buf[i]! >= 0x30 && buf[i]! <= 0x3f) i++;
    while (i < limit && buf[i]! >= 0x20 && buf[i]! <= 0x2f) i++;
    if (i >= limit) return limit === n && n - at < MAX_ESCAPE_BYTES ? PARTIAL : INVALID;
    const f = buf[i]!;
    // A new ESC aborts the sequence (a terminal shows nothing of it) and starts the next one.
    if (f === ESC) return i;
    return f >= 0x40 && f <= 0x7e ? i + 1 : INVALID;
  }
  if (isStringIntro(b)) {
    // String sequence up to BEL or ST (ESC \).
    for (let i = at + 2; i < limit; i++) {
      const c = buf[i]!;
      if (c === BEL) return i + 1;
      if (c === ESC) {
        if (i + 1 >= n) return n - at < MAX_ESCAPE_BYTES ? PARTIAL : INVALID;
        // ESC \ is the terminator; any other ESC aborts the string and starts the next sequence.
        return buf[i + 1] === 0x5c ? i + 2 : i;
      }
    }
    return limit === n && n - at < MAX_ESCAPE_BYTES ? PARTIAL : INVALID;
  }
  if (b >= 0x20 && b <= 0x2f) {
    // nF: intermediates then a final byte 0x30-0x7e (ESC ( B selects a character set).
    let i = at + 1;
    while (i < limit && buf[i]! >= 0x20 && buf[i]! <= 0x2f) i++;
    if (i >= limit) return limit === n && n - at < MAX_ESCAPE_BYTES ? PARTIAL : INVALID;
    if (buf[i] === ESC) return i;
    return buf[i]! >= 0x30 && buf[i]! <= 0x7e ? i + 1 : INVALID;
  }
  if (b >= 0x30 && b <= 0x7e) return at + 2;
  if (b === ESC) return at + 1;
  return INVALID;
}

/** Where csiRun stopped: the ESC it left to scanEscape, or -1 when the input has no more. */
let csiStop = -1;

/**
 * Complete CSI sequences from the ESC at `at` on, each written to skips as a range, up to the first
 * escape that is anything else (or the array is full): returns the new count, and leaves that ESC's
 * position in csiStop. The same ranges scanEscape gives. Colour-heavy output has an escape every few
 * dozen bytes; kept apart from the rarer kinds, this loop keeps its optimized code (an escape kind
 * seen for the first time threw away the whole tokenizer's, and the loop ran in the interpreter).
 */
function csiRun(input: Buffer, at: number, skips: Float64Array, ns: number): number {
  const n = input.length;
  while (at !== -1 && ns + 2 <= skips.length && at + 1 < n && input[at + 1] === 0x5b) {
    const limit = Math.min(n, at + MAX_ESCAPE_BYTES);
    let i = at + 2;
    while (i < limit && input[i]! >= 0x30 && input[i]! <= 0x3f) i++;
    while (i < limit && input[i]! >= 0x20 && input[i]! <= 0x2f) i++;
    if (i >= limit || input[i]! < 0x40 || input[i]! > 0x7e) break;
    skips[ns++] = at;
    skips[ns++] = i + 1;
    at = input.indexOf(ESC, i + 1);
  }
  csiStop = at;
  return ns;
}

/** Nothing held (one shared empty buffer: a tokenizer per small redaction made a new one per push). */
const NOTHING = Buffer.alloc(0);

export class NoiseTokenizer {
  readonly #scrub: PayloadScrubber;
  /** Bytes of an unfinished escape sequence (or a `\r` that may start a skipped break), held. */
  #pending: Buffer = NOTHING;
  /** base64 characters since the start of the current line, or -1 when it has anything else or is too long. */
  #lineRun = 0;
  /** Redactions made inside string-sequence payloads. */
  count = 0;

  constructor(scrub: PayloadScrubber) {
    this.#scrub = scrub;
  }

  /** Bytes held for an unfinished escape sequence or a possible `\r\n` wrap break. */
  get pending(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): Piece {
    const input = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = NOTHING;
    return this.#tokenize(input, false);
  }

  /** End of input: a held unfinished sequence is ordinary content. */
  end(): Piece {
    const input = this.#pending;
    this.#pending = NOTHING;
    return this.#tokenize(input, true);
  }

  #tokenize(input: Buffer, atEnd: boolean): Piece {
    // Skipped ranges [start, end), in order (skips[0, ns)), plus payload replacements for string sequences.
    let skips: Float64Array = skipScratch;
    let ns = 0;
    const payloads: { at: number; end: number; output: Buffer }[] = [];
    let stop = input.length;
    let at = atEnd ? -1 : input.indexOf(ESC);
    while (at !== -1) {
      // Runs of complete CSI sequences (colours) go through a loop of their own; whatever it leaves (a
      // string sequence, a cut-off or invalid one, a full skips array) is taken here.
      ns = csiRun(input, at, skips, ns);
      at = csiStop;
      if (at === -1) break;
      const end = scanEscape(input, at);
      if (end === PARTIAL) {
        stop = at;
        break;
      }
      if (end === INVALID) {
        at = input.indexOf(ESC, at + 1);
        continue;
      }
      if (isStringIntro(input[at + 1]!)) {
        // Payload between the introducer and the terminator (BEL, ESC \, or none when aborted by an ESC).
        const pe = input[end - 1] === BEL ? end - 1 : input[end - 2] === ESC && input[end - 1] === 0x5c && end - 2 >= at + 2 ? end - 2 : end;
        const { output, count } = this.#scrub(input.subarray(at + 2, pe));
        if (count > 0) {
          this.count += count;
          payloads.push({ at: at + 2, end: pe, output });
        }
      }
      if (ns + 2 > skips.length) skips = growSkips(skips);
      skips[ns++] = at;
      skips[ns++] = end;
      at = input.indexOf(ESC, end);
    }
    // A trailing \r after a wrap-length base64 line may be the first half of a skipped \r\n: hold it.
    if (!atEnd && stop === input.length && stop > 0 && input[stop - 1] === CR && this.#runBefore(input, stop - 1, 0) >= WRAP_MIN_COLUMNS) stop--;
    const breaks = this.#wrapBreaks(input, stop);
    if (stop < input.length) this.#pending = Buffer.from(input.subarray(stop));
    const body = stop === input.length ? input : input.subarray(0, stop);
    const escapes = skips.subarray(0, ns);
    const piece = buildPiece(body, breaks.length === 0 ? escapes : mergeRanges(escapes, breaks), payloads);
    if (skipScratch.length > SKIPS_KEPT) skipScratch = new Float64Array(1024);
    return piece;
  }

  /**
   * Skipped line breaks in input[0, stop), and the line state carried to the next push. A break is
   * skipped when everything since the previous line break (this push or earlier) is base64.
   */
  #wrapBreaks(input: Buffer, stop: number): number[] {
    const out: number[] = [];
    let lineStart = 0;
    let carried = this.#lineRun;
    for (let q = input.indexOf(LF); q !== -1 && q < stop; q = input.indexOf(LF, q + 1)) {
      const brk = q > lineStart && input[q - 1] === CR ? q - 1 : q;
      // The line may lie wholly in earlier pushes (the break starts this one): then `carried` is its run.
      // A line too short to be a wrap (a git SHA, a word: most lines ending in a base64 byte) is not walked.
      const len = brk - lineStart;
      const run = len > 0 ? (carried + len >= WRAP_MIN_COLUMNS && B64[input[brk - 1]!] === 1 ? this.#runFrom(input, lineStart, brk, carried) : -1) : carried;
      if (run >= WRAP_MIN_COLUMNS) out.push(brk, q + 1);
      lineStart = q + 1;
      carried = 0;
    }
    this.#lineRun = this.#runFrom(input, lineStart, stop, carried);
    return out;
  }

  /**
   * base64 run length of input[lineStart, end) as a whole line (with `carried` before it), or -1. The
   * length is checked before any byte is read, so a line already known not to wrap costs nothing.
   */
  #runFrom(input: Buffer, lineStart: number, end: number, carried: number): number {
    if (carried < 0 || carried + (end - lineStart) > WRAP_MAX_COLUMNS) return -1;
    let i = end;
    while (i > lineStart && B64[input[i - 1]!] === 1) i--;
    return i > lineStart ? -1 : carried + (end - lineStart);
  }

  /** The line run ending at `end` in this input, for the held-\r check. */
  #runBefore(input: Buffer, end: number, from: number): number {
    const nl = input.lastIndexOf(LF, end - 1);
    if (nl >= from) return this.#runFrom(input, nl + 1, end, 0);
    return this.#runFrom(input, from, end, this.#lineRun);
  }
}

/** Escape ranges `a` and wrap breaks `b` in order; a break inside an escape (a newline in an OSC payload) is dropped. */
function mergeRanges(a: ArrayLike<number>, b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      out.push(a[i]!, a[i + 1]!);
      i += 2;
    } else {
      if (out.length === 0 || b[j]! >= out[out.length - 1]!) out.push(b[j]!, b[j + 1]!);
      j += 2;
    }
  }
  return out;
}

/**
 * The escape ranges of the write being tokenized, reused across writes like the view buffer below: they
 * live only until its piece is built, and colour-heavy output has thousands per write, which a fresh
 * array grown for each write fed to the collector. Float64: positions in a write of any size.
 */
let skipScratch: Float64Array = new Float64Array(1024);
/** Past this (1 MB: a 1 MiB write of colour codes), a write's ranges are not kept for the next one. */
const SKIPS_KEPT = 1 << 17;
function growSkips(skips: Float64Array): Float64Array {
  skipScratch = new Float64Array(skips.length * 2);
  skipScratch.set(skips);
  return skipScratch;
}

let scratchBuf = Buffer.alloc(0);
/**
 * The view buffer, reused across pushes: a view lives only for one scan (held bytes and remembered
 * context are copied out of it), so allocating 64 KiB per write would only feed the collector.
 */
function scratch(n: number): Buffer {
  if (scratchBuf.length < n) scratchBuf = Buffer.allocUnsafe(Math.max(n, 64 * 1024));
  return scratchBuf.subarray(0, n);
}

/** Segments up to this long are moved down by a byte loop in buildPiece, longer ones by copyWithin. */
const SHORT_SEGMENT = 12;

/** Raw (payloads replaced) and view (skips removed) for `body`, with the segment map between them. */
function buildPiece(body: Buffer, skips: ArrayLike<number>, payloads: { at: number; end: number; output: Buffer }[]): Piece {
  if (skips.length === 0) return { raw: body, view: body, segV: [0], segR: [0] };
  // Replace payloads first: each lies inside one skipped range, so that range's end and everything after
  // it shift by the change in length.
  let raw = body;
  if (payloads.length > 0) {
    const parts: Buffer[] = [];
    const shifted: number[] = [];
    let at = 0;
    let shift = 0;
    let p = 0;
    for (let k = 0; k < skips.length; k += 2) {
      const start = skips[k]! + shift;
      for (; p < payloads.length && payloads[p]!.at < skips[k + 1]!; p++) {
        const pl = payloads[p]!;
        parts.push(body.subarray(at, pl.at), pl.output);
        at = pl.end;
        shift += pl.output.length - (pl.end - pl.at);
      }
      shifted.push(start, skips[k + 1]! + shift);
    }
    parts.push(body.subarray(at));
    raw = Buffer.concat(parts);
    skips = shifted;
  }
  // raw is copied whole into the scratch buffer, then each kept segment is moved down over the skipped
  // bytes with copyWithin: native copies that allocate nothing. (Buffer#copy or set(subarray) allocate
  // a typed-array view per segment, and colour-heavy output has one every few dozen bytes; a byte loop
  // in JS ran at a third of the speed, and much slower still before the JIT has warmed up.)
  const work = scratch(raw.length);
  work.set(raw);
  // At most one segment before each skipped range and one after the last: made at that size, then cut.
  const segV = new Array<number>((skips.length >> 1) + 1);
  const segR = new Array<number>(segV.length);
  let n = 0;
  let v = 0;
  let r = 0;
  for (let k = 0; k <= skips.length; k += 2) {
    const end = k < skips.length ? skips[k]! : raw.length;
    if (end > r) {
      segV[n] = v;
      segR[n++] = r;
      if (v !== r) {
        // A segment of a few bytes (the space between two colour codes) is moved by hand: cheaper than
        // the native call, which wins from a dozen bytes on.
        if (end - r <= SHORT_SEGMENT) for (let j = r; j < end; j++) work[v + j - r] = work[j]!;
        else work.copyWithin(v, r, end);
      }
      v += end - r;
    }
    if (k < skips.length) r = skips[k + 1]!;
  }
  segV.length = n;
  segR.length = n;
  return { raw, view: work.subarray(0, v), segV, segR };
}

/**
 * A text as the view sees it when it starts a line: the breaks after wrap-length base64 lines removed.
 * A multiline value with such lines (a PEM key's 64-column body) is looked for in this form too, or its
 * whole-value literal could never match the view.
 */
export function foldWraps(text: string): string {
  const lines = text.split('\n');
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const body = line.endsWith('\r') ? line.slice(0, -1) : line;
    const last = i === lines.length - 1;
    if (!last && body.length >= WRAP_MIN_COLUMNS && body.length <= WRAP_MAX_COLUMNS && [...body].every((c) => B64[c.charCodeAt(0)] === 1)) out += body;
    else out += last ? line : `${line}\n`;
  }
  return out;
}
