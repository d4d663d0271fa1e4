import { collectLiterals, literalsFor, type Literal, type LiteralsFn, type SecretValue } from './literals.js';
import type { Matcher, MatcherFactory } from './matcher.js';
import { chooseMatcher } from './qgram-matcher.js';
import { findShapes, renderShapes, type ShapeSet } from './shapes/compile.js';
import { ShapeStream } from './shapes/stream.js';
import { mayHoldRewrites, RewriteStream } from './rewrites.js';
import { DumpStream, mayHoldRows } from './dumps.js';
import type { PartialRule } from './regions.js';
import { asBuffer, ChainStream, MatcherStream, PassStream, redactFinal, redactPlain, type RedactorStream } from './stream.js';
import { WRAP_MIN_COLUMNS } from './noise.js';
import { withYoungGenerationHeld } from './young-gen.js';
import { quickClear, type QuickClear } from './quick-clear.js';

/** The stages after the values, each with the check that tells it would pass a whole buffer unchanged. */
const STAGES = [[DumpStream, mayHoldRows], [RewriteStream, mayHoldRewrites]] as const;

/**
 * The noise view of a whole buffer is the buffer when it has no ESC (no escape sequence to skip) and no
 * wrap break, which needs a line of WRAP_MIN_COLUMNS base64 characters before a line break: a reply's
 * header values, a small JSON body.
 */
function noiseFree(buf: Buffer): boolean {
  return buf.indexOf(0x1b) === -1 && (buf.length <= WRAP_MIN_COLUMNS || buf.indexOf(0x0a) === -1);
}

/** The plug-in seam: how secrets become literals, and which engine finds them. */
export interface RedactorOptions {
  literals?: LiteralsFn;
  matcher?: MatcherFactory;
  /**
   * Secret-shape rules (compileShapes(...)), applied after the known values: `[REDACTED:rule-id]`. A
   * function is called (once) when they are first needed: exec compiles them while its child starts.
   */
  shapes?: ShapeSet | (() => ShapeSet);
  /** Which held prefixes of a value are masked (regions.ts): `off` for input a caller supplies. */
  partial?: PartialRule;
  /**
   * Also the values only a terminal shows (default true): inside hex dumps, and revealed by backspace
   * or carriage-return rewrites (dumps.ts, rewrites.ts). Off for bytes that go to a program rather than
   * a screen, such as a placeholder run's replies: what the child prints passes a redactor with them on.
   */
  terminal?: boolean;
}

/** Redacts every value of a fixed set of secrets, in every derived form, from streams and strings. */
export class Redactor {
  readonly #matcher: Matcher;
  #shapes: ShapeSet | (() => ShapeSet) | undefined;
  readonly #hasValues: boolean;
  readonly #partial: PartialRule;
  readonly #terminal: boolean;
  /** A small buffer that cannot hold a value or a masked prefix (quick-clear.ts), made at first use; null: always scan. */
  #clear: QuickClear | null | undefined;
  readonly #literals: readonly Literal[];
  /** true when there is nothing to redact (no literals, no shape rules), so callers can skip work. */
  readonly empty: boolean;

  constructor(secrets: SecretValue[], options: RedactorOptions = {}) {
    const { literals, matcher } = withYoungGenerationHeld(secrets.length, () => {
      const literals = collectLiterals(secrets, options.literals ?? literalsFor);
      return { literals, matcher: (options.matcher ?? chooseMatcher)(literals) };
    });
    this.#matcher = matcher;
    this.#literals = literals;
    if (options.matcher !== undefined) this.#clear = null;
    this.#shapes = options.shapes;
    this.#partial = options.partial ?? 'mask';
    this.#terminal = options.terminal ?? true;
    this.#hasValues = literals.length > 0;
    this.empty = !this.#hasValues && this.#shapes === undefined;
  }

  #shapeSet(): ShapeSet | undefined {
    if (typeof this.#shapes === 'function') this.#shapes = this.#shapes();
    return this.#shapes;
  }

  /** Whole-buffer redaction: the reference every chunking of a stream reproduces. Values, then shapes. */
  redactBuffer(input: Uint8Array): { output: Buffer; count: number } {
    if (this.empty) return { output: Buffer.from(input), count: 0 };
    const buf = asBuffer(input);
    // Without terminal noise the view is the bytes themselves: one scan, no tokenizer and stream state.
    let { output, count } = !this.#hasValues
      ? { output: Buffer.from(input), count: 0 }
      : this.#quick()?.buffer(buf) ? { output: buf, count: 0 }
      : noiseFree(buf) ? redactPlain(this.#matcher, buf, this.#partial) : redactFinal(this.#matcher, buf, this.#partial);
    if (this.#hasValues && this.#terminal) {
      // Values that no literal can match in the bytes: inside hex dumps, and revealed by rewrites. Most
      // buffers (a reply's headers, a small JSON body) hold neither, and skip building the stage.
      for (const [Stage, may] of STAGES) {
        if (!may(output)) continue;
        const stage = new Stage(this.#matcher);
        const head = stage.push(output);
        const tail = stage.end();
        if (stage.count > 0) output = Buffer.concat([head, tail]);
        count += stage.count;
      }
    }
    const shapes = this.#shapeSet();
    if (shapes !== undefined) {
      const found = findShapes(shapes, output);
      output = renderShapes(output, found);
      count += found.length;
    }
    return { output, count };
  }

  #quick(): QuickClear | null {
    if (this.#clear === undefined) this.#clear = quickClear(this.#literals) ?? null;
    return this.#clear;
  }

  /** Convenience for strings (UTF-8): returns the redacted string. */
  redactString(input: string): string {
    return this.redactStringCounted(input).output;
  }

  /** Count-returning variant for strings. */
  redactStringCounted(input: string): { output: string; count: number } {
    if (this.empty) return { output: input, count: 0 };
    // Only the value stage can change it (no terminal stages, no shapes): a reply's header values.
    if (this.#hasValues && !this.#terminal && this.#shapes === undefined && this.#quick()?.string(input)) return { output: input, count: 0 };
    const { output, count } = this.redactBuffer(Buffer.from(input, 'utf8'));
    return { output: count === 0 ? input : output.toString('utf8'), count };
  }

  /** A fresh streaming state (one per output stream). */
  stream(): RedactorStream {
    const matcher = this.#hasValues ? new MatcherStream(this.#matcher, this.#partial) : undefined;
    const values = matcher && this.#terminal
      ? new ChainStream(new ChainStream(matcher, new DumpStream(this.#matcher)), new RewriteStream(this.#matcher))
      : matcher;
    const set = this.#shapeSet();
    const shapes = set === undefined ? undefined : new ShapeStream(set);
    if (values !== undefined && shapes !== undefined) return new ChainStream(values, shapes);
    return values ?? shapes ?? new PassStream();
  }
}
