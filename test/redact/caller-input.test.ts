import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectLiterals, Redactor, type PartialRule, type SecretValue } from '../../src/redact/index.js';
import { partialRuleFor } from '../../src/broker/redactor.js';
import { chunk, runStream } from './helpers.js';

/**
 * Issue 16 item 1: in input a caller supplies, whether a guess is masked must not depend on whether it
 * starts a value. The attack: 64 guesses per call, each `known + c`, separated by bare \r (the old
 * partial rule masked a held prefix of 8+ bytes right before a bare \r and at the end).
 */
const ABC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const KEY = 'acme_key_' + 'Qx7-pL2_vR9mZk4TfW0aYc8NbH3sJdE'; // 40 characters; `acme_key_` is public
const HEX_ABC = '0123456789abcdef';

/** One call of the attack: which guesses came back changed. */
function call(redactor: Redactor, guesses: string[], chunks = false): number[] {
  const input = Buffer.from(guesses.join('\r'));
  const out = chunks ? runStream(redactor, chunk(input, [7, 100, 333])).output : redactor.redactBuffer(input).output;
  const segs = out.toString('latin1').split('\r');
  return guesses.flatMap((g, i) => (segs[i] === g ? [] : [i]));
}

/** The whole attack, as many calls as it takes; returns what it learned and how many calls it made. */
function attack(redactor: Redactor, known: string, abc: string, want: number): { learned: string; calls: number } {
  let calls = 0;
  while (known.length < want && calls < 200) {
    calls++;
    const guesses = [...abc].map((c) => known + c);
    const hit = call(redactor, guesses, calls % 2 === 0);
    // Two hits at most (the value and its lower-case form both start with a lower-case guess): the
    // first in ABC order is the exact case.
    if (hit.length === 0) break;
    known = guesses[hit[0]!]!;
  }
  return { learned: known, calls };
}

const secrets: SecretValue[] = [{ name: 'ACME_KEY', value: KEY }];

describe('caller-supplied input (outloop redact) is no prefix oracle', () => {
  it('the attack is real against the held-prefix rule (exec output keeps it): it recovers the key', () => {
    const { learned } = attack(new Redactor(secrets), 'acme_key_', ABC, KEY.length - 1);
    expect(learned).toBe(KEY.slice(0, -1));
  });

  it('with partial: off it learns nothing, plain or through the hex form', () => {
    const r = new Redactor(secrets, { partial: 'off' });
    expect(attack(r, 'acme_key_', ABC, KEY.length - 1)).toEqual({ learned: 'acme_key_', calls: 1 });
    const hex = Buffer.from(KEY).toString('hex');
    expect(attack(r, hex.slice(0, 18), HEX_ABC, hex.length - 1)).toEqual({ learned: hex.slice(0, 18), calls: 1 });
    // Also at the very end, after a pause, and inside an OSC payload.
    const s = r.stream();
    const paused = Buffer.concat([s.push(Buffer.from(`x ${KEY.slice(0, 30)}`)), s.idle()]);
    expect(paused.toString()).toBe(`x ${KEY.slice(0, 30)}`);
    expect(r.redactString(`\x1b]8;;${KEY.slice(0, 30)}\x07`)).toBe(`\x1b]8;;${KEY.slice(0, 30)}\x07`);
  });

  it('still masks whole values and whole forms, however they are chunked or paused', () => {
    const r = new Redactor(secrets, { partial: 'off' });
    for (const form of [KEY, Buffer.from(KEY).toString('hex'), Buffer.from(`u:${KEY}`).toString('base64'), encodeURIComponent(KEY)]) {
      const text = Buffer.from(`a ${form}\rb ${form}`);
      const out = runStream(r, chunk(text, [3, 17, 40])).output.toString();
      expect(out).not.toContain(form);
      expect(out).toContain('[REDACTED:ACME_KEY]');
    }
    // The rest of a value sent after a pause is masked: the caller sent all of it.
    const s = r.stream();
    const out = Buffer.concat([s.push(Buffer.from(`x ${KEY.slice(0, 20)}`)), s.idle(), s.push(Buffer.from(`${KEY.slice(20)} y`)), s.end()]).toString();
    expect(out).toBe(`x ${KEY.slice(0, 20)}[REDACTED:ACME_KEY] y`);
  });

  it('holds the same number of bytes whatever they are: emission timing tells nothing', () => {
    const r = new Redactor(secrets, { partial: 'off' });
    const max = Math.max(...collectLiterals(secrets).map((l) => l.bytes.length));
    for (const tail of [KEY.slice(0, 25), 'zzzzzzzzzzzzzzzzzzzzzzzzz']) {
      const s = r.stream();
      const out = s.push(Buffer.from(`${'.'.repeat(400)}${tail}`));
      expect(out.length).toBe(425 - (max - 1));
      expect(s.pending).toBe(max - 1);
    }
  });

  it('streams to exactly the whole-buffer output under any chunking', () => {
    const abc = fc.constantFrom('a', 'b', 'c', '\r', '\n', 'é');
    const str = (n: number) => fc.array(abc, { minLength: 1, maxLength: n }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(str(10), { minLength: 1, maxLength: 3 }), fc.array(str(8), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 12 }), (values, parts, cuts) => {
        const ss = values.map((value, i) => ({ name: `S${i}`, value }));
        const r = new Redactor(ss, { partial: 'off' });
        const text = Buffer.from(parts.map((p, i) => (i % 2 ? values[i % values.length]! : p)).join(''));
        const whole = r.redactBuffer(text);
        expect(runStream(r, chunk(text, cuts)).output.toString('hex')).toBe(whole.output.toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  it('masks a value across the end of what a long write\'s seam scan holds (rescanned in place, not copied)', () => {
    // A write longer than SEAM_MIN after held bytes is scanned as a seam up to a line break, then the
    // rest; with partial: off the seam always holds its last bytes, and those are scanned again with the
    // rest. The value is moved over that boundary a few bytes at a time, with and without colour inside it.
    const r = new Redactor(secrets, { partial: 'off' });
    const rest = Array.from({ length: 60 }, (_, i) => `line ${i} ok\n`).join('');
    for (const v of [KEY, `${KEY.slice(0, 12)}\x1b[31m${KEY.slice(12)}\x1b[0m`]) {
      for (let q = 0; q <= 400; q += 3) {
        const text = Buffer.from(`held ${'a'.repeat(80)}${v}${'b'.repeat(q)}\n${rest}`);
        const want = r.redactBuffer(text).output;
        expect(want.includes('[REDACTED:ACME_KEY]'), `q ${q}`).toBe(true);
        const got = runStream(r, [text.subarray(0, 5), text.subarray(5)]);
        expect(got.output.toString('latin1'), `q ${q}`).toBe(want.toString('latin1'));
        expect(got.count).toBe(1);
      }
    }
  });
});

describe('exec output: the held-prefix rule spares a tail the caller sent as a parameter', () => {
  const rule = (params: string[]): PartialRule => partialRuleFor({ params });
  it('a guess echoed back from a parameter goes out as sent; a prefix nobody sent is masked', () => {
    const guess = KEY.slice(0, 20);
    const echoed = new Redactor(secrets, { partial: rule([`name=${guess}`]) });
    expect(echoed.redactString(`{"echo": ${guess}`)).toBe(`{"echo": ${guess}`);
    expect(echoed.redactString(`echo ${guess}\rnext`)).toBe(`echo ${guess}\rnext`);
    // In one of its forms too (an API that URL-encodes what it echoes).
    const pct = new Redactor(secrets, { partial: rule([`${guess}!`]) });
    expect(pct.redactString(`q=${encodeURIComponent(guess)}`)).toBe(`q=${encodeURIComponent(guess)}`);
    const other = new Redactor(secrets, { partial: rule(['limit=5']) });
    expect(other.redactString(`died at ${guess}`)).toBe('died at [REDACTED:ACME_KEY]');
    // The whole value is masked wherever it comes from.
    expect(echoed.redactString(`x ${KEY}`)).toBe('x [REDACTED:ACME_KEY]');
  });
});
