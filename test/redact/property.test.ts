import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, chooseMatcher, collectLiterals, type SecretValue } from '../../src/redact/index.js';
import { MatcherStream } from '../../src/redact/stream.js';
import { runStream, chunk } from './helpers.js';
import { oracle } from './oracle.js';

// A tiny alphabet makes overlaps, self-overlaps and shared prefixes common; none of its characters
// occur in `[REDACTED:S0]`, so a literal found in the output can only be a leak.
const alphabet = fc.constantFrom('a', 'b', 'c', 'é', '€', '\n', '\r');
const str = (min: number, max: number) => fc.array(alphabet, { minLength: min, maxLength: max }).map((a) => a.join(''));

const secretsArb = fc
  .array(str(1, 14), { minLength: 1, maxLength: 4 })
  .map((values): SecretValue[] => values.map((value, i) => ({ name: `S${i}`, value })));

/** Text built from noise, whole secrets, their lines and their prefixes, in random order. */
function textArb(secrets: SecretValue[], pieces = 12): fc.Arbitrary<Buffer> {
  const values = secrets.map((s) => s.value);
  const piece = fc.oneof(
    str(0, 6),
    fc.constantFrom(...values),
    fc.constantFrom(...values).chain((v) => fc.nat(v.length).map((k) => v.slice(0, k))),
    fc.constantFrom(...values.flatMap((v) => v.split('\n'))),
  );
  return fc.array(piece, { maxLength: pieces }).map((ps) => Buffer.from(ps.join(''), 'utf8'));
}


const caseArb = secretsArb.chain((secrets) =>
  fc.record({ secrets: fc.constant(secrets), text: textArb(secrets), cuts: fc.array(fc.nat(), { maxLength: 20 }) }),
);

describe('redaction properties', () => {
  it('redactBuffer agrees with a naive restatement of the rules', () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, text }) => {
        const got = new Redactor(secrets).redactBuffer(text);
        const want = oracle(text, secrets);
        expect(got.output.toString('hex')).toBe(want.output.toString('hex'));
        expect(got.count).toBe(want.count);
      }),
      { numRuns: 2000 },
    );
  }, 120_000);

  it('streams to exactly the redactBuffer output under any chunking, leaking no literal', () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, text, cuts }) => {
        const r = new Redactor(secrets);
        const whole = r.redactBuffer(text);
        const streamed = runStream(r, chunk(text, cuts));
        expect(streamed.output.toString('hex')).toBe(whole.output.toString('hex'));
        expect(streamed.count).toBe(whole.count);
        for (const lit of collectLiterals(secrets)) expect(streamed.output.includes(lit.bytes)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  }, 120_000);

  it('holds back at most longest-1 bytes (plus a final \\r) when no region can grow, plus the line stages\' current line', () => {
    // Distinct first bytes and no repeats of the first byte inside a secret: no overlaps, no growth.
    const secrets = [
      { name: 'A', value: 'a€bbcbcbb\nbc' },
      { name: 'B', value: 'écccbbcbb' },
    ];
    const r = new Redactor(secrets);
    const literals = collectLiterals(secrets);
    const max = Math.max(...literals.map((l) => l.bytes.length));
    fc.assert(
      fc.property(textArb(secrets, 40), fc.array(fc.nat(), { maxLength: 20 }), (text, cuts) => {
        const s = r.stream();
        // The values stage alone, fed the same writes: what the line stages behind it receive.
        const values = new MatcherStream(chooseMatcher(literals));
        let staged = Buffer.alloc(0);
        for (const c of chunk(text, cuts)) {
          s.push(c);
          staged = Buffer.concat([staged, values.push(c)]);
          // The values stage holds at most longest-1 bytes, and a final \r one more (it may turn out
          // bare: the partial rule before \r). The line stages (dumps.ts, rewrites.ts) hold at most the
          // current line, from its start (a possible hex-dump row) or its first \b or bare \r, but a
          // line of *their* input, the values stage's output, not of the text: a masked value with a
          // newline in it takes that newline with it, so after a leading bare \r the rewrite stage's
          // line runs on across every input line joined that way ("\ra€bbcbcbb\nbc..." held 75 bytes
          // where longest + the text's line was 72 + 2; with longer texts the gap grows without limit
          // up to the stage's CONTEXT cap). Measured on the staged output, no slack byte is needed.
          const line = staged.length - (staged.lastIndexOf(0x0a) + 1);
          expect(s.pending).toBeLessThanOrEqual(max - 1 + (c.at(-1) === 0x0d ? 1 : 0) + line);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same output for every 2-way split of a fixed sample', () => {
    const secrets: SecretValue[] = [
      { name: 'STRIPE_KEY', value: 'sk_live_51Habc123XYZsecret' },
      { name: 'PW', value: 'p4ssp4ssword' },
      { name: 'UNI', value: 'clé-ключ-🔑' },
      { name: 'PEM', value: 'BEGIN\r\nAAAAbbbbCCCC\r\nEND' },
      { name: 'SHORT', value: 'abcdefgh' },
      { name: 'LONG', value: 'abcdefghijkl' },
    ];
    const r = new Redactor(secrets);
    const sample = Buffer.from(
      'log: sk_live_51Habc123XYZsecret, xxp4ssp4ssp4ssword clé-ключ-🔑\nAAAAbbbbCCCC\nabcdefghijk abcdefgh ' +
        'BEGIN\r\nAAAAbbbbCCCC\r\nEND sk_live_51Habc',
    );
    const whole = r.redactBuffer(sample);
    expect(whole.output.toString()).toBe(
      'log: [REDACTED:STRIPE_KEY], xxp4ss[REDACTED:PW] [REDACTED:UNI]\n[REDACTED:PEM]\n[REDACTED:SHORT]ijk [REDACTED:SHORT] ' +
        '[REDACTED:PEM] [REDACTED:STRIPE_KEY]',
    );
    for (let i = 0; i <= sample.length; i++) {
      const got = runStream(r, [sample.subarray(0, i), sample.subarray(i)]);
      expect(got.output.toString('hex'), `split at ${i}`).toBe(whole.output.toString('hex'));
      expect(got.count).toBe(whole.count);
    }
  });
});

describe('redaction properties with terminal noise', () => {
  const E = '\x1b';
  const noise = fc.constantFrom(`${E}[1m`, `${E}[0;31m`, `${E}[K`, `${E}]8;;https://x/${E}\\`, `${E}]8;;\x07`, `${E}7`, E, `${E}[`, '\r', '\n', '\r\n');
  const secrets: SecretValue[] = [
    { name: 'A', value: 'tok3n-abcdef-123' },
    { name: 'B', value: 'p4ssp4ssword' },
  ];
  const r = new Redactor(secrets);
  // Secrets cut into pieces with noise between them, plus plain noise and text.
  const piece = fc.oneof(
    noise,
    fc.constantFrom('x', 'hello ', 'abc'),
    fc.constantFrom(...secrets.map((s) => s.value)).chain((v) =>
      fc.tuple(fc.nat(v.length), fc.array(noise, { maxLength: 2 })).map(([k, ns]) => v.slice(0, k) + ns.join('') + v.slice(k)),
    ),
  );
  const textArb = fc.array(piece, { maxLength: 14 }).map((ps) => Buffer.from(ps.join('')));
  // What a terminal shows nothing of: sequences, and sequences cut short by the next ESC.
  // (ESC [, ESC ], ESC P/X/^/_ always introduce CSI or a string; a malformed one is text.)
  const ANSI = /\x1b(?:\[[0-?]*[ -/]*(?:[@-~]|(?=\x1b))|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\|(?=\x1b))|[ -/]+(?:[0-~]|(?=\x1b))|[0-OQ-WYZ\\`-~]|(?=\x1b))/g;

  it('streams to exactly the whole-buffer output under any chunking, and no value is visible', () => {
    fc.assert(
      fc.property(textArb, fc.array(fc.nat(), { maxLength: 20 }), (text, cuts) => {
        const whole = r.redactBuffer(text);
        const streamed = runStream(r, chunk(text, cuts));
        expect(streamed.output.toString('hex')).toBe(whole.output.toString('hex'));
        expect(streamed.count).toBe(whole.count);
        const visible = whole.output.toString('latin1').replace(ANSI, '');
        for (const s of secrets) expect(visible).not.toContain(s.value);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('redaction properties on large writes (held bytes joined to a long write)', () => {
  const E = '\x1b';
  const secrets: SecretValue[] = [
    { name: 'A', value: 'tok3n-abcdef-123' },
    { name: 'B', value: 'line-one-xyz\nline-two-uvw' },
    { name: 'C', value: 'Zm9vYmFyYmF6cXV4cXV1eA' },
  ];
  const r = new Redactor(secrets);
  const values = secrets.map((s) => s.value);
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('plain log line\n', `${E}[32minfo${E}[0m ok\n`, 'x'.repeat(70) + '\n', 'A'.repeat(76) + '\n', 'tok', 'Zm9v', 'line-', '\r\n') },
    { weight: 2, arbitrary: fc.constantFrom(...values) },
    { weight: 2, arbitrary: fc.constantFrom(...values).chain((v) => fc.nat(v.length).map((k) => v.slice(0, k))) },
    { weight: 1, arbitrary: fc.constantFrom(...values).chain((v) => fc.nat(v.length).map((k) => `${v.slice(0, k)}${E}[1m${v.slice(k)}`)) },
  );
  const textArb = fc.array(piece, { minLength: 50, maxLength: 400 }).map((ps) => Buffer.from(ps.join('')));

  it('streams big chunks to exactly the whole-buffer output', () => {
    fc.assert(
      fc.property(textArb, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const whole = r.redactBuffer(text);
        const streamed = runStream(r, chunk(text, cuts));
        expect(streamed.output.toString('hex')).toBe(whole.output.toString('hex'));
        expect(streamed.count).toBe(whole.count);
        for (const v of values) expect(streamed.output.includes(Buffer.from(v))).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
