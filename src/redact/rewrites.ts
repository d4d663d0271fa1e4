/**
 * Values revealed by in-place rewrites: a line whose bytes never hold the value, but whose picture on
 * a terminal does, because backspaces or carriage returns overwrite part of it (`sk_live_XXXX\b\b\b\b4eC3`,
 * `XXXX_4eC3\rsk_live`, a spinner drawn between the characters). The values stage has already masked
 * every value written in one piece; this stage looks only at lines holding a backspace or a carriage
 * return, and at their end renders them as a terminal would (renderLine). When the rendering holds a
 * value in a form the redactor knows, what follows the first rewrite byte is replaced by `\r`, the
 * rendering with the value masked, and an erase-to-end-of-line, so neither a log nor a screen shows it.
 *
 * The rules, identical for a whole buffer and for any chunking of it (only pauses depend on timing):
 * - A line is [A][B]: A the bytes before its first \b or \r, written as they come; B the rest, held
 *   until the line ends (\n, or the end of the stream). A is remembered (at most CONTEXT bytes) to
 *   render the line. A line with no \b or \r is never held.
 * - A pause (idle) releases B under the same check, and the line goes on with all of it as context.
 * - Only whole values and whole forms are masked here (no held-prefix rule): the rendering is shaped by
 *   whoever wrote the rewrites.
 */
import { InternalError } from '../errors.js';
import type { Matcher } from './matcher.js';
import type { RedactorStream } from './stream.js';
import { candidatesIn, render, selectRegions } from './regions.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
const BS = 0x08;
const ESC = 0x1b;
/** Bytes of a line kept to render it, and the most a held rewrite part may grow before it is checked. */
export const CONTEXT = 4096;
const ERASE_TO_END = Buffer.from('\x1b[K');

/**
 * The text a terminal shows for one line (no \n inside): \r goes to column 0, \b one column left, other
 * characters overwrite the cell under the cursor; a UTF-8 character takes one cell. Escape sequences are
 * dropped, except erase-in-line (CSI K: to the end, 1K: to the cursor, 2K: all).
 */
export function renderLine(line: Buffer): Buffer {
  const cells: Buffer[] = [];
  let col = 0;
  for (let i = 0; i < line.length; ) {
    const b = line[i]!;
    if (b === CR) {
      col = 0;
      i++;
    } else if (b === BS) {
      if (col > 0) col--;
      i++;
    } else if (b === ESC) {
      i = escape(line, i, cells, col);
    } else {
      let j = i + 1;
      if (b >= 0xc0) while (j < line.length && (line[j]! & 0xc0) === 0x80) j++;
      cells[col++] = line.subarray(i, j);
      i = j;
    }
  }
  for (let k = 0; k < cells.length; k++) cells[k] ??= Buffer.from(' ');
  return Buffer.concat(cells);
}

/** Skip the escape sequence at line[i] (applying erase-in-line to `cells`); returns where it ends. */
function escape(line: Buffer, i: number, cells: Buffer[], col: number): number {
  const next = line[i + 1];
  if (next === 0x5b) {
    let j = i + 2;
    while (j < line.length && line[j]! >= 0x20 && line[j]! <= 0x3f) j++;
    if (j < line.length && line[j] === 0x4b) {
      const p = line.toString('latin1', i + 2, j);
      if (p === '' || p === '0') cells.length = Math.min(cells.length, col);
      else if (p === '2') cells.length = 0;
      else if (p === '1') for (let k = 0; k <= col && k < cells.length; k++) cells[k] = Buffer.from(' ');
    }
    return j + 1;
  }
  if (next === 0x5d) {
    for (let j = i + 2; j < line.length; j++) {
      if (line[j] === 0x07) return j + 1;
      if (line[j] === ESC && line[j + 1] === 0x5c) return j + 2;
    }
    return line.length;
  }
  return i + 2;
}

export class RewriteStream implements RedactorStream {
  readonly #matcher: Matcher;
  /** The current line's bytes written so far (A), for rendering; at most CONTEXT bytes. */
  #context: Buffer = EMPTY;
  /** The held part (B) of the current line, from its first \b or \r; empty when not in one. */
  #held: Buffer = EMPTY;
  /** The current line has had a rewrite (so every further byte of it is held until its end). */
  #rewriting = false;
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
    if (this.#ended) throw new InternalError('rewrite stream written after end');
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return EMPTY;
    // Fast path: no rewrite byte in this write and none pending.
    if (!this.#rewriting && firstRewrite(buf, 0) === -1) {
      this.#remember(buf);
      return buf;
    }
    const out: Buffer[] = [];
    let at = 0;
    while (at < buf.length) {
      if (!this.#rewriting) {
        const next = firstRewrite(buf, at);
        const nl = buf.indexOf(LF, at);
        if (next === -1 || (nl !== -1 && nl < next)) {
          // No rewrite before the end of this line (or of the write).
          const end = nl === -1 ? buf.length : nl + 1;
          out.push(buf.subarray(at, end));
          this.#remember(buf.subarray(at, end));
          at = end;
          continue;
        }
        out.push(buf.subarray(at, next));
        this.#remember(buf.subarray(at, next));
        this.#rewriting = true;
        at = next;
      }
      const nl = buf.indexOf(LF, at);
      const end = nl === -1 ? buf.length : nl;
      this.#held = this.#held.length === 0 ? Buffer.from(buf.subarray(at, end)) : Buffer.concat([this.#held, buf.subarray(at, end)]);
      at = end;
      if (nl !== -1) {
        out.push(this.#release(), buf.subarray(nl, nl + 1));
        this.#context = EMPTY;
        this.#rewriting = false;
        at = nl + 1;
      } else if (this.#held.length > CONTEXT) {
        out.push(this.#release());
      }
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  idle(): Buffer {
    if (this.#ended || this.#held.length === 0) return EMPTY;
    return this.#release();
  }

  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    return this.#held.length === 0 ? EMPTY : this.#release();
  }

  /** Write the held part: as it is, or, when the rendered line shows a value, as the masked rendering. */
  #release(): Buffer {
    const held = this.#held;
    this.#held = EMPTY;
    // The \r of a \r\n split across writes: nothing was rewritten.
    if (held.length === 1 && held[0] === CR) return held;
    const line = Buffer.concat([this.#context, held]);
    this.#remember(held);
    const shown = renderLine(line);
    const regions = selectRegions(candidatesIn(this.#matcher, shown, true, 'off'), this.#matcher.literals);
    if (regions.length === 0) return held;
    this.#count += regions.reduce((n, r) => n + r.count, 0);
    return Buffer.concat([Buffer.from('\r'), render(shown, regions, shown.length), ERASE_TO_END]);
  }

  #remember(bytes: Buffer): void {
    const nl = bytes.lastIndexOf(LF);
    const tail = nl === -1 ? bytes : bytes.subarray(nl + 1);
    if (nl !== -1) this.#context = EMPTY;
    if (tail.length === 0) return;
    if (tail.length >= CONTEXT) return void (this.#context = Buffer.from(tail.subarray(tail.length - CONTEXT)));
    const joined = this.#context.length === 0 ? tail : Buffer.concat([this.#context, tail]);
    this.#context = Buffer.from(joined.subarray(Math.max(0, joined.length - CONTEXT)));
  }
}

/** Can a whole buffer hold a rewrite? Without a \b or a bare \r the stage passes it unchanged, counting nothing. */
export function mayHoldRewrites(buf: Buffer): boolean {
  return firstRewrite(buf, 0) !== -1;
}

/** The first \b or \r in buf from `from` that is not the \r of a \r\n, or -1 (a final \r counts). */
function firstRewrite(buf: Buffer, from: number): number {
  const b = buf.indexOf(BS, from);
  let c = buf.indexOf(CR, from);
  while (c !== -1 && buf[c + 1] === LF) c = buf.indexOf(CR, c + 2);
  return b === -1 ? c : c === -1 ? b : Math.min(b, c);
}
