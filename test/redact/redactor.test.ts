import { describe, expect, it } from 'vitest';
import { Redactor, plainLiteralsFor as literalsFor } from '../../src/redact/index.js';
import { bytewise, runStream } from './helpers.js';

const STRIPE = { name: 'STRIPE_KEY', value: 'sk_live_51Habc123XYZsecret' };

describe('plainLiteralsFor (value and lines; literalsFor adds derived forms, see forms.test.ts)', () => {
  it('gives the whole value, then each non-blank line without its \\r, once each', () => {
    const lits = literalsFor({ name: 'PEM', value: 'line-one\r\n\r\n   \nline-two\nline-one\n' });
    expect(lits.map((l) => [l.label, l.bytes.toString()])).toEqual([
      ['PEM', 'line-one\r\n\r\n   \nline-two\nline-one\n'],
      ['PEM', 'line-one'],
      ['PEM', 'line-two'],
    ]);
  });

  it('does not mask short lines of a multiline value on their own (the whole value still is)', () => {
    const lits = literalsFor({ name: 'KEYFILE', value: '{\n  "private_key": "abcdefgh12345678"\n}\n' });
    expect(lits.map((l) => l.bytes.toString())).toEqual(['{\n  "private_key": "abcdefgh12345678"\n}\n', '  "private_key": "abcdefgh12345678"']);
  });

  it('gives nothing for an empty value, and only the value for a single line', () => {
    expect(literalsFor({ name: 'E', value: '' })).toEqual([]);
    expect(literalsFor(STRIPE).map((l) => l.bytes.toString())).toEqual([STRIPE.value]);
  });
});

describe('Redactor', () => {
  it('masks a whole value in a buffer and in a string', () => {
    const r = new Redactor([STRIPE]);
    expect(r.redactString(`key=${STRIPE.value}\n`)).toBe('key=[REDACTED:STRIPE_KEY]\n');
    expect(r.redactStringCounted(`${STRIPE.value} ${STRIPE.value}`)).toEqual({
      output: '[REDACTED:STRIPE_KEY] [REDACTED:STRIPE_KEY]',
      count: 2,
    });
    const { output, count } = r.redactBuffer(Buffer.from(`a ${STRIPE.value} b`));
    expect(output.toString()).toBe('a [REDACTED:STRIPE_KEY] b');
    expect(count).toBe(1);
  });

  it('is empty with no secrets or only empty values, and then changes nothing', () => {
    const r = new Redactor([{ name: 'E', value: '' }]);
    expect(r.empty).toBe(true);
    expect(new Redactor([STRIPE]).empty).toBe(false);
    expect(r.redactString('anything')).toBe('anything');
    expect(runStream(r, ['any', 'thing']).output.toString()).toBe('anything');
  });

  it('masks a multiline value whole, and each of its lines printed alone, also with \\r\\n', () => {
    const r = new Redactor([{ name: 'PEM', value: '-----BEGIN KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END KEY-----\n' }]);
    expect(r.redactString('k: -----BEGIN KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END KEY-----\n.')).toBe('k: [REDACTED:PEM].');
    const crlf = 'x -----BEGIN KEY-----\r\nMIIEvQIBADANBg\r\nkqhkiG9w0BAQEF\r\n-----END KEY-----\r\n';
    // A PTY's onlcr form (lines joined with \r\n) is one of the derived forms, so it is masked whole.
    expect(r.redactStringCounted(crlf)).toEqual({ output: 'x [REDACTED:PEM]', count: 1 });
    expect(runStream(r, bytewise(crlf)).output.toString()).toBe('x [REDACTED:PEM]');
    // Lines printed apart (other text between them) are masked one by one.
    const apart = 'x -----BEGIN KEY-----\r\n> MIIEvQIBADANBg\r\n> kqhkiG9w0BAQEF\r\n';
    expect(r.redactStringCounted(apart)).toEqual({ output: 'x [REDACTED:PEM]\r\n> [REDACTED:PEM]\r\n> [REDACTED:PEM]\r\n', count: 3 });
  });

  it('masks nested secrets (one a prefix of the other) by the longest at that start', () => {
    for (const secrets of [
      [{ name: 'SHORT', value: 'abcdefgh' }, { name: 'LONG', value: 'abcdefghijkl' }],
      [{ name: 'LONG', value: 'abcdefghijkl' }, { name: 'SHORT', value: 'abcdefgh' }],
    ]) {
      const r = new Redactor(secrets);
      expect(r.redactStringCounted('x abcdefghijkl y')).toEqual({ output: 'x [REDACTED:LONG] y', count: 1 });
      expect(r.redactString('x abcdefgh y')).toBe('x [REDACTED:SHORT] y');
      // At end of stream the 10-byte prefix of LONG is longer than SHORT, so LONG names it.
      expect(r.redactStringCounted('x abcdefghij')).toEqual({ output: 'x [REDACTED:LONG]', count: 1 });
      expect(r.redactStringCounted('x abcdefghi')).toEqual({ output: 'x [REDACTED:LONG]', count: 1 });
      const s = r.stream();
      expect(s.push(Buffer.from('x abcdefgh')).toString()).toBe('x ');
      expect(s.pending).toBe(8); // complete SHORT, but LONG may still follow
      expect(s.push(Buffer.from('ijkl y')).toString()).toBe('[REDACTED:LONG] y');
      expect(s.end().length).toBe(0);
      expect(s.count).toBe(1);
    }
  });

  it('merges overlapping secrets into one region listing both labels', () => {
    const r = new Redactor([{ name: 'A', value: 'abcdef12' }, { name: 'B', value: 'ef12ghij' }]);
    expect(r.redactStringCounted('<abcdef12ghij>')).toEqual({ output: '<[REDACTED:A][REDACTED:B]>', count: 2 });
    expect(runStream(r, bytewise('<abcdef12ghij>')).output.toString()).toBe('<[REDACTED:A][REDACTED:B]>');
    // Touching is not overlapping: two regions.
    expect(r.redactString('abcdef12ef12ghij')).toBe('[REDACTED:A][REDACTED:B]');
    expect(r.redactStringCounted('abcdef12abcdef12')).toEqual({ output: '[REDACTED:A][REDACTED:A]', count: 2 });
  });

  it('shows the first name when two secrets share a value', () => {
    const r = new Redactor([{ name: 'FIRST', value: 'same-value-123' }, { name: 'SECOND', value: 'same-value-123' }]);
    expect(r.redactStringCounted('=same-value-123=')).toEqual({ output: '=[REDACTED:FIRST]=', count: 1 });
  });

  it('catches a self-overlapping secret whose real start was in the previous write', () => {
    const r = new Redactor([{ name: 'PW', value: 'p4ssp4ssword' }]);
    const s = r.stream();
    const first = s.push(Buffer.from('xxp4ssp')).toString();
    const second = s.push(Buffer.from('4ssp4ssword')).toString();
    expect(first + second + s.end().toString()).toBe('xxp4ss[REDACTED:PW]');
    expect(s.count).toBe(1);
  });

  it('gives the same output one byte at a time as in one piece', () => {
    const r = new Redactor([STRIPE, { name: 'PW', value: 'hunter2hunter2' }]);
    const text = `start ${STRIPE.value}\nsk_live_ almost\nhunter2hunter2hunter2 sk_${STRIPE.value}`;
    // The two overlapping hunter2hunter2 merge into one region that counts 2.
    const expected = `start [REDACTED:STRIPE_KEY]\nsk_live_ almost\n[REDACTED:PW] sk_[REDACTED:STRIPE_KEY]`;
    expect(r.redactString(text)).toBe(expected);
    const got = runStream(r, bytewise(text));
    expect(got.output.toString()).toBe(expected);
    expect(got.count).toBe(4);
    expect(r.redactStringCounted(text).count).toBe(4);
  });

  it('catches a multibyte secret split mid-character, and passes other multibyte text unchanged', () => {
    const secret = 'pässwörd-ключ-1234';
    const r = new Redactor([{ name: 'UNI', value: secret }]);
    const bytes = Buffer.from(`→ ${secret} ←`);
    const inA = bytes.indexOf(Buffer.from('ä')) + 1; // between the two bytes of ä
    expect(runStream(r, [bytes.subarray(0, inA), bytes.subarray(inA)]).output.toString()).toBe('→ [REDACTED:UNI] ←');
    const other = Buffer.from('héllo wörld ✓ 🎉 ключи');
    const s = r.stream();
    const parts = bytewise(other).map((b) => s.push(b));
    parts.push(s.end());
    expect(Buffer.concat(parts).equals(other)).toBe(true);
  });

  it('masks a secret at the very end without a newline', () => {
    const r = new Redactor([STRIPE]);
    const s = r.stream();
    expect(s.push(Buffer.from(`token: ${STRIPE.value}`)).toString()).toBe('token: [REDACTED:STRIPE_KEY]');
    expect(s.pending).toBe(0);
    expect(s.end().length).toBe(0);
    expect(runStream(r, ['token: ', STRIPE.value.slice(0, 5), STRIPE.value.slice(5)]).output.toString()).toBe(
      'token: [REDACTED:STRIPE_KEY]',
    );
  });

  it('masks a held prefix of 8 or more bytes at end of stream', () => {
    const r = new Redactor([STRIPE]);
    const s = r.stream();
    expect(s.push(Buffer.from(`died: ${STRIPE.value.slice(0, 8)}`)).toString()).toBe('died: ');
    expect(s.pending).toBe(8);
    expect(s.end().toString()).toBe('[REDACTED:STRIPE_KEY]');
    expect(s.count).toBe(1);
    expect(r.redactStringCounted(`died: ${STRIPE.value.slice(0, 20)}`)).toEqual({ output: 'died: [REDACTED:STRIPE_KEY]', count: 1 });
    expect(r.redactStringCounted(`died: ${STRIPE.value.slice(0, 7)}`)).toEqual({ output: `died: ${STRIPE.value.slice(0, 7)}`, count: 0 });
  });

  it('masks at half a short literal: 5 of 10 bytes masked, 4 passed', () => {
    const r = new Redactor([{ name: 'PIN', value: '0123456789' }]);
    expect(r.redactString('pin 01234')).toBe('pin [REDACTED:PIN]');
    expect(runStream(r, bytewise('pin 01234')).output.toString()).toBe('pin [REDACTED:PIN]');
    expect(r.redactString('pin 0123')).toBe('pin 0123');
    expect(runStream(r, bytewise('pin 0123')).output.toString()).toBe('pin 0123');
  });

  it('holds a short coincidental tail and then passes it as-is', () => {
    const r = new Redactor([STRIPE]);
    const s = r.stream();
    expect(s.push(Buffer.from('done, sk')).toString()).toBe('done, ');
    expect(s.pending).toBe(2);
    expect(s.end().toString()).toBe('sk');
    expect(s.count).toBe(0);
  });

  it('passes bytes that cannot begin a secret immediately, holding nothing', () => {
    const r = new Redactor([STRIPE]);
    const s = r.stream();
    const input = Buffer.from('hello world, nothing secret here\n');
    const out = s.push(input);
    expect(out.equals(input)).toBe(true);
    expect(s.pending).toBe(0);
    // Only the tail that could begin the key is held.
    expect(s.push(Buffer.from('x sk_li')).toString()).toBe('x ');
    expect(s.pending).toBe(5);
    expect(s.push(Buffer.from('ve?')).toString()).toBe('sk_live?');
    expect(s.pending).toBe(0);
  });

  it('keeps its own copy of held bytes, so a caller may reuse its chunk buffer', () => {
    const s = new Redactor([STRIPE]).stream();
    const scratch = Buffer.from(`> ${STRIPE.value.slice(0, 10)}`);
    expect(s.push(scratch).toString()).toBe('> ');
    scratch.fill('z');
    expect(s.push(Buffer.from(STRIPE.value.slice(10))).toString()).toBe('[REDACTED:STRIPE_KEY]');
  });

  it('refuses writes after end', () => {
    const s = new Redactor([STRIPE]).stream();
    s.end();
    expect(() => s.push(Buffer.from('x'))).toThrow(/after end/);
  });
});
