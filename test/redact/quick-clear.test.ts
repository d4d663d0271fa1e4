import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, chooseMatcher, collectLiterals, literalsFor, type SecretValue } from '../../src/redact/index.js';
import { quickClear, QUICK_MAX } from '../../src/redact/quick-clear.js';

/**
 * The small-buffer shortcut (src/redact/quick-clear.ts): a buffer it lets through unscanned must be one
 * the full scan leaves unchanged. A Redactor given its matcher explicitly never takes the shortcut, so
 * it is the reference here.
 */
const TOKEN = `ghp_${'Ab3'.repeat(12)}`;
const secrets: SecretValue[] = [{ name: 'GH', value: TOKEN }];
const quick = new Redactor(secrets, { terminal: false });
const full = new Redactor(secrets, { terminal: false, matcher: chooseMatcher });
const clear = quickClear(collectLiterals(secrets, literalsFor))!;

describe('quick clear', () => {
  it('lets through the small replies it is for', () => {
    for (const s of ['Thu, 03 Dec 2026 13:15:46 GMT\0keep-alive\0timeout=5\x0012\0OK', '{"ok":true}\n', 'application/json; charset=utf-8']) {
      expect(clear.buffer(Buffer.from(s))).toBe(true);
      expect(clear.string(s)).toBe(!s.includes('\n'));
    }
  });

  it('scans a buffer with a value, a masked prefix at its end, a CR, or over its size', () => {
    const cases = [
      `x ${TOKEN} y`,
      // The end rule: a held prefix at the very end is masked, though no separator follows it.
      `Date: x\0${TOKEN.slice(0, 9)}`,
      // ...and before a bare CR.
      `a ${TOKEN.slice(0, 9)}\rb`,
    ];
    for (const s of cases) {
      expect(clear.buffer(Buffer.from(s))).toBe(false);
      expect(clear.string(s)).toBe(false);
      expect(quick.redactStringCounted(s)).toEqual(full.redactStringCounted(s));
      const got = quick.redactBuffer(Buffer.from(s));
      expect(got.count).toBeGreaterThan(0);
      expect(got.output.toString()).toBe(full.redactBuffer(Buffer.from(s)).output.toString());
    }
    expect(clear.buffer(Buffer.alloc(QUICK_MAX + 1, ' '))).toBe(false);
    // Not its own noise view: an escape sequence, or a line long enough to be wrapped base64 before a LF.
    // ('x' and ' ' are in no literal: each half of the value is a run too short to be held.)
    const wrapped = `${'x'.repeat(30)}${TOKEN.slice(0, 30)}\n${TOKEN.slice(30)} ok`;
    expect(full.redactBuffer(Buffer.from(wrapped)).count).toBe(1);
    for (const s of ['a\x1b[0mb', wrapped]) {
      expect(clear.buffer(Buffer.from(s))).toBe(false);
      expect(quick.redactBuffer(Buffer.from(s)).output.toString()).toBe(full.redactBuffer(Buffer.from(s)).output.toString());
    }
    expect(clear.buffer(Buffer.from('{"a":1}\n{"b":2}\n'))).toBe(true);
    // A string is cleared only when its UTF-8 bytes are one per character and their own noise view.
    for (const s of ['caf\u00e9 ok', 'a\nb', 'a\x1b[0mb']) expect(clear.string(s)).toBe(false);
  });

  it('agrees with the full scan on text cut by separators', () => {
    const values = fc.array(fc.constantFrom('a', 'b', '1', '_', 'é'), { minLength: 1, maxLength: 20 }).map((a) => a.join(''));
    const arb = fc.array(values, { minLength: 1, maxLength: 3 }).chain((vs) => {
      const ss = vs.map((value, i) => ({ name: `S${i}`, value }));
      const piece = fc.oneof(
        fc.constantFrom(' ', ':', '\0', ',', '"', '\n', '\r\n', '{', 'a', 'b1', '\x1b[1m', 'x'.repeat(61)),
        fc.constantFrom(...vs),
        fc.constantFrom(...vs).chain((v) => fc.nat(v.length).map((k) => v.slice(0, k))),
      );
      return fc.record({ ss: fc.constant(ss), text: fc.array(piece, { maxLength: 14 }).map((p) => Buffer.from(p.join(''), 'utf8')) });
    });
    fc.assert(
      fc.property(arb, ({ ss, text }) => {
        const a = new Redactor(ss, { terminal: false }).redactBuffer(text);
        const b = new Redactor(ss, { terminal: false, matcher: chooseMatcher }).redactBuffer(text);
        expect(a.output.toString('hex')).toBe(b.output.toString('hex'));
        expect(a.count).toBe(b.count);
        const str = text.toString('utf8');
        expect(new Redactor(ss, { terminal: false }).redactStringCounted(str)).toEqual(new Redactor(ss, { terminal: false, matcher: chooseMatcher }).redactStringCounted(str));
      }),
      { numRuns: 3000 },
    );
  });
});
