import { LiteralMatcher } from './literal-matcher.js';
import { collectLiterals, literalsFor, type LiteralsFn, type SecretValue } from './literals.js';
import type { Matcher, MatcherFactory } from './matcher.js';
import { asBuffer, MatcherStream, redactFinal, type RedactorStream } from './stream.js';

/** The plug-in seam: how secrets become literals, and which engine finds them. */
export interface RedactorOptions {
  literals?: LiteralsFn;
  matcher?: MatcherFactory;
}

/** Redacts every value of a fixed set of secrets from streams and strings. */
export class Redactor {
  readonly #matcher: Matcher;
  /** true when there is nothing to redact (no literals), so callers can skip work. */
  readonly empty: boolean;

  constructor(secrets: SecretValue[], options: RedactorOptions = {}) {
    const literals = collectLiterals(secrets, options.literals ?? literalsFor);
    this.#matcher = (options.matcher ?? ((lits) => new LiteralMatcher(lits)))(literals);
    this.empty = literals.length === 0;
  }

  /** Whole-buffer redaction (non-streaming reference semantics). */
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
    const { output, count } = redactFinal(this.#matcher, Buffer.from(input, 'utf8'));
    return { output: count === 0 ? input : output.toString('utf8'), count };
  }

  /** A fresh streaming state (one per output stream). */
  stream(): RedactorStream {
    return new MatcherStream(this.#matcher);
  }
}
