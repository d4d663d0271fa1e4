/**
 * Streaming secret-shape redaction with bounded holdback. The rules:
 *
 * - Lines: bytes are held until their line ends. Rule windows never cross a newline (except multiline
 *   rules), so redacting complete lines gives the same output as findShapes on the whole stream. A line
 *   ending in a backslash is held with the next (shell continuations: `curl ... \` / `-u user:pass`).
 * - Long lines: a line longer than MAX_LINE (16 KiB) without a newline is cut KEEP (4 KiB) before its end, at
 *   the last separator byte (space, quote, comma, ...) so no token is split unless one is longer than that.
 * - PEM private keys: from a `-----BEGIN ... PRIVATE KEY-----` line, bytes are held until the END line and
 *   the whole block is masked. A block that grows past the multiline window (64 KiB) is masked at once and
 *   everything up to its END line is dropped, so memory stays bounded and no key line leaks.
 * - Pause (idle): the held partial line is redacted as if complete and released, so prompts and progress
 *   output are not held back. The trailing word (after the last separator) is treated fail-closed when it
 *   could be the start of a token: if it holds a token prefix (ghp_, eyJ, sk_live_, ... the keywords of
 *   case-sensitive rules; a keyword cut off by the pause only where a word starts) it is masked when it is 8 bytes or longer, and in every case the rest of that
 *   token, when output resumes, is dropped up to the next separator. The same holds for a finding that
 *   reaches the end of the held bytes. An open PEM block is not released on a pause.
 * - End: everything held is redacted as complete; an unterminated PEM block with a body is masked whole.
 */
import { InternalError } from '../../errors.js';
import { joinParts, SEAM_MIN, type RedactorStream } from '../stream.js';
import { findShapes, labelFor, prefixRuleIn, renderShapes, scanShapes, type ShapeFinding, type ShapeSet } from './compile.js';

const EMPTY = Buffer.alloc(0);
export const MAX_LINE = 16 * 1024;
export const KEEP = 4 * 1024;
const BEGIN = Buffer.from('-----BEGIN');
const END = Buffer.from('-----END');
const BEGIN_LINE = /^-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/;
const END_LINE = /^-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/;
/** Longest END line recognised: bytes kept while waiting for one. */
const END_WINDOW = 140;

/** Bytes that cannot be inside a token: whitespace, quotes, brackets and list punctuation. */
const SEPARATOR = new Uint8Array(256);
for (const c of ' \t\r\n\v\f"\'`,;()<>[]{}|&=') SEPARATOR[c.charCodeAt(0)] = 1;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** held + chunk. Buffer.concat is measurably slower here (it is on every write that ends mid-line). */
function join(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length + b.length);
  a.copy(out, 0);
  b.copy(out, a.length);
  return out;
}

/** Start of an unfinished PEM private-key block whose BEGIN lies before `limit`, or -1. */
function openPem(buf: Buffer, limit: number): number {
  if (limit < BEGIN.length) return -1;
  const at = buf.lastIndexOf(BEGIN, limit - BEGIN.length);
  if (at < 0) return -1;
  if (!BEGIN_LINE.test(buf.toString('latin1', at, Math.min(buf.length, at + 140)))) return -1;
  // The block is finished only when a whole END marker line has arrived after it.
  for (let end = buf.indexOf(END, at); end >= 0 && end < limit; end = buf.indexOf(END, end + 1)) {
    if (END_LINE.test(buf.toString('latin1', end, Math.min(limit, end + END_WINDOW)))) return -1;
  }
  return at;
}

export class ShapeStream implements RedactorStream {
  readonly #set: ShapeSet;
  readonly #pemCap: number;
  #held: Buffer = EMPTY;
  #count = 0;
  #ended = false;
  /** Inside a PEM block masked early: drop bytes until its END line. */
  #swallowPem = false;
  /** The token in front was masked at a pause: drop its continuation up to the next separator. */
  #maskRun = false;

  constructor(set: ShapeSet) {
    this.#set = set;
    this.#pemCap = Math.max(set.maxMultiline, MAX_LINE);
  }

  get count(): number {
    return this.#count;
  }

  get pending(): number {
    return this.#held.length;
  }

  push(chunk: Uint8Array): Buffer {
    return joinParts(this.pushParts(chunk));
  }

  /**
   * A long write after a held partial line is taken in two: up to its first line break (the held line
   * ends there: a short copy joins them) and the rest, scanned in place. Held bytes are a line or less,
   * the write 64 KiB, so joining them whole copied the write on every write that ended mid-line. The
   * output is the same: cuts fall on line structure, and a forced cut is measured from the end.
   */
  pushParts(chunk: Uint8Array): Buffer[] {
    if (this.#ended) throw new InternalError('shape redactor stream written after end');
    const input = asBuffer(chunk);
    const nl = this.#held.length > 0 && input.length > SEAM_MIN ? input.indexOf(10) + 1 : 0;
    const parts = nl > 0 && nl < input.length ? [this.#pushOne(input.subarray(0, nl)), this.#pushOne(input.subarray(nl))] : [this.#pushOne(input)];
    return parts.filter((p) => p.length > 0);
  }

  #pushOne(chunk: Buffer): Buffer {
    if (chunk.byteLength === 0) return EMPTY;
    let buf = this.#held.length === 0 ? asBuffer(chunk) : join(this.#held, asBuffer(chunk));
    this.#held = EMPTY;
    buf = this.#dropContinuation(buf);
    if (this.#swallowPem) {
      const rest = this.#dropPemRest(buf);
      if (rest === null) {
        // Still inside the block: keep only enough to recognise an END line split across writes.
        this.#held = Buffer.from(buf.subarray(Math.max(0, buf.length - END_WINDOW)));
        return EMPTY;
      }
      buf = rest;
    }
    if (buf.length === 0) return EMPTY;
    let cut = continuedCut(buf, buf.lastIndexOf(10) + 1);
    if (buf.length - cut > MAX_LINE) cut = forcedCut(buf);
    // The lines before the cut, scanned once: that scan also says whether a BEGIN is among them, and
    // only then is the buffer searched for an unfinished block (was: a backward search of every write).
    const scanned = scanShapes(this.#set, buf.subarray(0, cut), false);
    // Only what lies before the cut counts: an END line without its newline yet is still arriving.
    const pem = scanned.sawPemBegin ? openPem(buf, cut) : -1;
    if (pem >= 0) {
      if (buf.length - pem > this.#pemCap) {
        // Too long to hold: mask what we have and drop the rest of the block as it arrives.
        const head = this.#redact(buf.subarray(0, pem), false);
        this.#count++;
        this.#swallowPem = true;
        const tail = this.#pushOne(Buffer.from(buf.subarray(pem + BEGIN.length)));
        return Buffer.concat([head, labelFor('private-key'), tail]);
      }
      // Hold the whole line the block starts on: a rule may read the text before BEGIN with it.
      cut = pem === 0 ? 0 : buf.lastIndexOf(10, pem - 1) + 1;
    }
    const out = pem >= 0 ? this.#redact(buf.subarray(0, cut), false) : this.#render(buf.subarray(0, cut), scanned.findings);
    // Copy: the caller may reuse its chunk's memory once push returns.
    if (cut < buf.length) this.#held = Buffer.from(buf.subarray(cut));
    return out;
  }

  idle(): Buffer {
    if (this.#ended || this.#held.length === 0 || this.#swallowPem) return EMPTY;
    const buf = this.#held;
    if (openPem(buf, buf.length) >= 0) return EMPTY;
    this.#held = EMPTY;
    const findings = findShapes(this.#set, buf);
    this.#count += findings.length;
    let word = buf.length;
    while (word > 0 && SEPARATOR[buf[word - 1]!] === 0) word--;
    const last = findings[findings.length - 1];
    if (last !== undefined && last.end > word) {
      // A finding reaches into the trailing word: the token may go on after the pause.
      this.#maskRun = true;
      return renderShapes(buf, findings);
    }
    const rule = word < buf.length ? prefixRuleIn(this.#set, buf.subarray(word)) : undefined;
    if (rule === undefined) return renderShapes(buf, findings);
    this.#maskRun = true;
    if (buf.length - word < 8) return renderShapes(buf, findings);
    this.#count++;
    return Buffer.concat([renderShapes(buf.subarray(0, word), findings), labelFor(rule)]);
  }

  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    const buf = this.#swallowPem ? EMPTY : this.#dropContinuation(this.#held);
    this.#held = EMPTY;
    return this.#redact(buf);
  }

  #redact(buf: Buffer, final = true): Buffer {
    if (buf.length === 0) return EMPTY;
    return this.#render(buf, findShapes(this.#set, buf, final));
  }

  #render(buf: Buffer, findings: ShapeFinding[]): Buffer {
    if (buf.length === 0) return EMPTY;
    this.#count += findings.length;
    return renderShapes(buf, findings);
  }

  #dropContinuation(buf: Buffer): Buffer {
    if (!this.#maskRun) return buf;
    let i = 0;
    while (i < buf.length && SEPARATOR[buf[i]!] === 0) i++;
    if (i < buf.length) this.#maskRun = false;
    return buf.subarray(i);
  }

  /** Inside a swallowed PEM block: the bytes after its END line, or null while it has not come yet. */
  #dropPemRest(buf: Buffer): Buffer | null {
    let from = 0;
    for (;;) {
      const at = buf.indexOf(END, from);
      if (at < 0) return null;
      const m = END_LINE.exec(buf.toString('latin1', at, Math.min(buf.length, at + END_WINDOW)));
      if (m) {
        this.#swallowPem = false;
        return buf.subarray(at + m[0].length);
      }
      if (buf.length - at < END_WINDOW) return null;
      from = at + END.length;
    }
  }
}

/**
 * Move a cut back over lines that end in a backslash: a shell command continued on the next line (curl
 * -H ... \\ -u user:pass) is one logical line to the rules that read across continuations.
 */
function continuedCut(buf: Buffer, cut: number): number {
  while (cut > 0) {
    let i = cut - 2;
    if (i >= 0 && buf[i] === 13) i--;
    if (i < 0 || buf[i] !== 92) return cut;
    cut = i === 0 ? 0 : buf.lastIndexOf(10, i - 1) + 1;
  }
  return cut;
}

/** Where to cut a line too long to hold: KEEP bytes before its end, moved back to a separator if one is near. */
function forcedCut(buf: Buffer): number {
  const target = buf.length - KEEP;
  for (let i = target; i > target - 1024 && i > 0; i--) if (SEPARATOR[buf[i - 1]!] === 1) return i;
  return target;
}
