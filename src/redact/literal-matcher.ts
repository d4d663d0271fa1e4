import type { Literal } from './literals.js';
import type { Matcher, Occurrence } from './matcher.js';

/**
 * The engine for a handful of secrets: Buffer.indexOf per literal for matches, and a first-byte table
 * so the tail scan for pending prefixes only compares against literals that can start at that byte.
 */
export class LiteralMatcher implements Matcher {
  readonly literals: readonly Literal[];
  readonly maxLength: number;
  readonly #byFirstByte: (number[] | undefined)[] = new Array<number[] | undefined>(256);

  constructor(literals: readonly Literal[]) {
    this.literals = literals;
    let max = 0;
    literals.forEach((lit, i) => {
      if (lit.bytes.length === 0) return;
      max = Math.max(max, lit.bytes.length);
      const first = lit.bytes[0]!;
      (this.#byFirstByte[first] ??= []).push(i);
    });
    this.maxLength = max;
  }

  findAll(buf: Buffer): Occurrence[] {
    const out: Occurrence[] = [];
    this.literals.forEach((lit, literal) => {
      const len = lit.bytes.length;
      if (len === 0) return;
      // Step one byte past each hit, not past its end: self-overlapping literals must all be seen.
      for (let at = buf.indexOf(lit.bytes); at !== -1; at = buf.indexOf(lit.bytes, at + 1)) {
        out.push({ start: at, end: at + len, literal });
      }
    });
    return out;
  }

  pendingStart(buf: Buffer): number {
    const n = buf.length;
    for (let p = Math.max(0, n - this.maxLength + 1); p < n; p++) {
      const candidates = this.#byFirstByte[buf[p]!];
      if (candidates === undefined) continue;
      for (const i of candidates) if (this.#isProperPrefix(buf, p, i)) return p;
    }
    return n;
  }

  partials(buf: Buffer): Occurrence[] {
    const n = buf.length;
    const out: Occurrence[] = [];
    for (let p = Math.max(0, n - this.maxLength + 1); p < n; p++) {
      const candidates = this.#byFirstByte[buf[p]!];
      if (candidates === undefined) continue;
      for (const i of candidates) if (this.#isProperPrefix(buf, p, i)) out.push({ start: p, end: n, literal: i });
    }
    return out;
  }

  #isProperPrefix(buf: Buffer, p: number, literal: number): boolean {
    const bytes = this.literals[literal]!.bytes;
    const tail = buf.length - p;
    return tail < bytes.length && buf.compare(bytes, 0, tail, p, buf.length) === 0;
  }
}
