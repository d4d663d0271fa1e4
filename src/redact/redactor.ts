import { collectLiterals, literalsFor, type LiteralsFn, type SecretValue } from './literals.js';
import type { Matcher, MatcherFactory } from './matcher.js';
import { chooseMatcher } from './qgram-matcher.js';
import { asBuffer, MatcherStream, PassStream, redactFinal, type RedactorStream } from './stream.js';

/** The plug-in seam: how secrets become literals, and which engine finds them. */
export interface RedactorOptions {
  literals?: LiteralsFn;
  matcher?: MatcherFactory;
}

/** Redacts every value of a fixed set of secrets, in every derived form, from streams and strings. */
export class Redactor {
  readonly #matcher: Matcher;
  /** true when there is nothing to redact (no literals), so callers can skip work. */
  readonly empty: boolean;

  constructor(secrets: SecretValue[], options: RedactorOptions = {}) {
    const literals = collectLiterals(secrets, options.literals ?? literalsFor);
    this.#matcher = (options.matcher ?? chooseMatcher)(literals);
    this.empty = literals.length === 0;
  }

  /** Whole-buffer redaction: the reference every chunking of a stream reproduces. */
  redactBuffer(input: Uint8Array): { output: Buffer; count: number } {
    if (this.empty) return { output: Buffer.from(input), count: 0 };
    return redactFinal(this.#matcher, asBuffer(input));
  }

  /** Convenience for strings (UTF-8): returns the redacted string. */
  redactString(input: string): string {
    return this.redactStringCounted(input).output;
  }

  /** Count-returning variant for strings. */
  redactStringCounted(input: string): { output: string; count: number } {
    if (this.empty) return { output: input, count: 0 };
    const { output, count } = this.redactBuffer(Buffer.from(input, 'utf8'));
    return { output: count === 0 ? input : output.toString('utf8'), count };
  }

  /** A fresh streaming state (one per output stream). */
  stream(): RedactorStream {
    return this.empty ? new PassStream() : new MatcherStream(this.#matcher);
  }
}
