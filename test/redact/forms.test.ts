import { describe, expect, it } from 'vitest';
import { literalsFor, Redactor, shortValueProblem } from '../../src/redact/index.js';

const texts = (value: string) => new Set(literalsFor({ name: 'X', value }).map((l) => l.bytes.toString('utf8')));

describe('literalsFor derived forms', () => {
  const v = `pa55 w/"rd'<&>é+%`;
  const got = texts(v);

  it('has the value, hex both cases, and base64/base64url of the value alone (padded and not)', () => {
    const b = Buffer.from(v);
    for (const form of [v, b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url')]) {
      expect(got, form).toContain(form);
    }
  });

  it('covers the value at each base64 alignment: some form is a substring of base64(prefix + value + suffix)', () => {
    for (const prefix of ['', 'u', 'us', 'use', 'user:']) {
      for (const suffix of ['', '!', '!!', '!!!']) {
        for (const url of [false, true]) {
          const enc = Buffer.from(prefix + v + suffix).toString(url ? 'base64url' : 'base64');
          const hits = [...got].filter((f) => f.length >= 20 && enc.includes(f));
          expect(hits.length, `${prefix}|${suffix}|${url}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('has percent (upper, lower, strict, form, userinfo), JSON, XML and shell forms', () => {
    const u = new URL('http://h/');
    u.password = v;
    for (const form of [
      encodeURIComponent(v),
      encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      encodeURIComponent(v).replace(/%20/g, '+'),
      encodeURIComponent(v).replace(/'/g, '%27'),
      u.password,
      JSON.stringify(v).slice(1, -1),
      JSON.stringify(v).slice(1, -1).replace(/\//g, '\\/'),
      JSON.stringify(v).slice(1, -1).replace('é', '\\u00e9'),
      v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
      v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;'),
      v.replace(/'/g, `'\\''`),
    ]) {
      expect(got, form).toContain(form);
    }
  });

  it('joins the lines of a multiline value with \\n, \\r\\n and spaces, and escapes it for JSON', () => {
    const m = 'line-one-abc\nline-two-def\nline-three-ghi';
    const t = texts(m);
    for (const form of [m, m.replace(/\n/g, '\r\n'), m.replace(/\n/g, ' '), JSON.stringify(m).slice(1, -1), 'line-one-abc']) expect(t).toContain(form);
  });

  it('adds only forms that differ from the value, none shorter than 6 bytes except the value', () => {
    const plain = texts('abcdefghijkl');
    expect([...plain].filter((f) => f === 'abcdefghijkl').length).toBe(1);
    for (const f of texts('ab')) if (f !== 'ab') expect(Buffer.byteLength(f)).toBeGreaterThanOrEqual(6);
  });
});

describe('shortValueProblem', () => {
  it('flags values under 4 bytes as too_short and under 8 as short; longer and empty ones pass', () => {
    expect(shortValueProblem('abc')?.code).toBe('too_short');
    expect(shortValueProblem('é')?.code).toBe('too_short');
    expect(shortValueProblem('abcd')?.code).toBe('short');
    expect(shortValueProblem('abcdefg')?.message).toMatch(/7 bytes/);
    expect(shortValueProblem('abcdefgh')).toBeUndefined();
    expect(shortValueProblem('')).toBeUndefined();
  });

  it('never skips a short value: even 3 bytes are masked wherever they appear', () => {
    const r = new Redactor([{ name: 'PIN', value: '739' }]);
    expect(r.redactString('pin=739, again 739')).toBe('pin=[REDACTED:PIN], again [REDACTED:PIN]');
  });
});
