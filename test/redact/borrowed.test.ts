import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, pushParts, type SecretValue } from '../../src/redact/index.js';
import { builtinShapeRules, compileShapes } from '../../src/redact/shapes/index.js';

/**
 * The placeholder relay reads a reply into one buffer per connection and overwrites it with the next read
 * (src/sandbox/upstream-pool.ts), so every redactor stream must copy what it holds across pushes
 * (RedactorStream.push). Each stage holds something different: the value matcher a prefix, the noise
 * tokenizer an unfinished escape, the dump stage hex rows, the rewrite stage a line after \r, the shape
 * stage a partial line or a PEM block. Run the same pushes and pauses twice, once from fresh buffers and
 * once from one buffer scribbled over after each push, and the outputs must be the same bytes.
 */
const VALUE = 'tok_Ab3dEf6hIj9kLm';
const secrets: SecretValue[] = [
  { name: 'A', value: VALUE },
  { name: 'B', value: 'pass\nword-42' },
];
const shapes = compileShapes(builtinShapeRules());

const piece = fc.oneof(
  fc.constantFrom(
    VALUE,
    VALUE.slice(0, 7),
    VALUE.slice(7),
    'pass\nword-42',
    '\x1b[31m',
    '\x1b[',
    '0m',
    '00000000  74 6f 6b 5f 41 62 33 64  45 66 36 68 49 6a 39 6b  |tok_Ab3dEf6hIj9k|\n',
    '00000010  4c 6d 0a',
    'progress 10%\rprogress 20%\r',
    'typo\b\b\b\b',
    `ghp_${'Zq9'.repeat(12)}`,
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA',
    'x8Kp2Lm\n-----END RSA PRIVATE KEY-----\n',
    '\n',
    ' ',
  ),
  fc.string({ maxLength: 12 }),
);
const caseArb = fc.record({
  text: fc.array(piece, { maxLength: 40 }).map((ps) => Buffer.from(ps.join(''), 'utf8')),
  cuts: fc.array(fc.nat(), { maxLength: 30 }),
  pauses: fc.array(fc.nat(), { maxLength: 4 }),
});

/** Pushes of `text` cut at `cuts`, with idle() before the pushes `pauses` names; `borrowed`: one reused buffer. */
function run(r: Redactor, text: Buffer, cuts: number[], pauses: number[], borrowed: boolean): { out: string; count: number } {
  const s = r.stream();
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  points.push(text.length);
  const idleAt = new Set(pauses.map((p) => p % points.length));
  const scratch = Buffer.alloc(text.length + 1);
  const out: Buffer[] = [];
  let at = 0;
  points.forEach((p, i) => {
    if (idleAt.has(i)) out.push(Buffer.from(s.idle()));
    const slice = text.subarray(at, p);
    at = p;
    if (slice.length === 0) return;
    const chunk = borrowed ? scratch.subarray(0, slice.copy(scratch)) : Buffer.from(slice);
    // The output may share the chunk's memory: taken before the chunk is overwritten, as the relay does.
    for (const part of pushParts(s, chunk)) out.push(Buffer.from(part));
    if (borrowed) scratch.fill(0x41);
  });
  out.push(Buffer.from(s.end()));
  return { out: Buffer.concat(out).toString('latin1'), count: s.count };
}

describe('redactor streams over a reused input buffer', () => {
  it('give the same output as over fresh buffers, for every stage, any chunking and pauses', () => {
    const r = new Redactor(secrets, { shapes });
    fc.assert(
      fc.property(caseArb, ({ text, cuts, pauses }) => {
        const fresh = run(r, text, cuts, pauses, false);
        const reused = run(r, text, cuts, pauses, true);
        expect(reused.out).toBe(fresh.out);
        expect(reused.count).toBe(fresh.count);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);

  it('a value cut at every position, the buffer overwritten in between, is masked whole', () => {
    const r = new Redactor(secrets, { shapes });
    const text = Buffer.from(`before ${VALUE} after\n`);
    for (let cut = 1; cut < text.length; cut++) {
      const got = run(r, text, [cut], [], true);
      expect(got.out).toBe('before [REDACTED:A] after\n');
    }
  });
});
