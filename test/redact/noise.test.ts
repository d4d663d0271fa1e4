import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { MAX_ESCAPE_BYTES, NoiseTokenizer, WRAP_MAX_COLUMNS, WRAP_MIN_COLUMNS } from '../../src/redact/noise.js';
import { bytewise, runStream } from './helpers.js';

const S = 'sk_live_51Habc123XYZsecretQ9';
const r = new Redactor([{ name: 'K', value: S }]);
const E = '\x1b';

/** Whole-buffer output, checked to equal the bytewise and every-2-way-split streamed output. */
function redact(text: string): string {
  const input = Buffer.from(text);
  const whole = r.redactBuffer(input).output;
  expect(runStream(r, bytewise(input)).output.equals(whole)).toBe(true);
  for (let i = 0; i <= input.length; i++) expect(runStream(r, [input.subarray(0, i), input.subarray(i)]).output.equals(whole), `split ${i}`).toBe(true);
  return whole.toString();
}

describe('terminal noise view', () => {
  it('passes output with escapes and no secret through byte for byte', () => {
    const text = `${E}[1;32m✓${E}[0m ok ${E}]8;;https://e.x${E}\\link${E}]8;;${E}\\ ${E}(B${E}7${E}8 ${E}[?25l${E}[2J\n`;
    expect(redact(text)).toBe(text);
  });

  it('treats an ESC that starts no valid sequence as text, and still masks around it', () => {
    expect(redact(`a${E}\x01b ${S}`)).toBe(`a${E}\x01b [REDACTED:K]`);
  });

  it('gives up on an unterminated string sequence after MAX_ESCAPE_BYTES and scans it as text', () => {
    const text = `${E}]8;;${'x'.repeat(MAX_ESCAPE_BYTES)} ${S} tail`;
    const out = r.redactBuffer(Buffer.from(text)).output.toString();
    expect(out).not.toContain(S);
    expect(out.endsWith('[REDACTED:K] tail')).toBe(true);
    const streamed = runStream(r, [text.slice(0, 3), text.slice(3, 5000), text.slice(5000)]).output.toString();
    expect(streamed).toBe(out);
  });

  it('masks a value split by colour codes in writes of many thousand escapes, and in a short write after them', () => {
    // 100,000 escapes in one write (more ranges than the tokenizer keeps between writes), then a few.
    const colours = `${E}[32m.${E}[0m`.repeat(50_000);
    const split = `${S.slice(0, 9)}${E}[1m${S.slice(9)}`;
    const out = runStream(r, [Buffer.from(`${split} ${colours}${split}\n`), Buffer.from(`x${E}[0m ${split}\n`)]).output.toString();
    expect(out).toBe(`[REDACTED:K]${E}[1m ${colours}[REDACTED:K]${E}[1m\nx${E}[0m [REDACTED:K]${E}[1m\n`);
  });

  it('skips the same bytes when colour runs meet every other kind of escape', () => {
    // Complete CSI sequences take a loop of their own, which hands every other escape to the general
    // parser and takes over again after it: the view must be the text without what a terminal hides.
    const hidden = /\x1b(?:\[[0-?]*[ -/]*(?:[@-~]|(?=\x1b))|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\|(?=\x1b))|[ -/]+(?:[0-~]|(?=\x1b))|[0-OQ-WYZ\\`-~]|(?=\x1b))/g;
    const kinds = [`${E}]8;;https://x${E}\\`, `${E}(B`, `${E}7`, `${E}[1;2${E}[0m`, `${E}[\x01`, `${E}]0;t\x07`, E];
    const colours = Array.from({ length: 1500 }, (_, i) => `${E}[3${i % 8}mab${E}[0m${i % 97 === 0 ? kinds[i % kinds.length] : ''}`).join('');
    for (const text of [colours, `${colours}${E}[3`, `${colours}${E}`, `${E}[1m${kinds.join(`x${E}[2m`)}`]) {
      const t = new NoiseTokenizer((payload) => ({ output: payload, count: 0 }));
      // Each view lives in a shared buffer until the next push: copied out.
      const views = [Buffer.from(t.push(Buffer.from(text, 'latin1')).view), Buffer.from(t.end().view)];
      expect(Buffer.concat(views).toString('latin1')).toBe(text.replace(hidden, ''));
    }
  });

  it('masks a value in an unterminated escape at the end of the stream', () => {
    expect(redact(`${E}]8;;https://x/?k=${S}`)).not.toContain(S);
  });

  it('keeps a newline inside an OSC payload inside the escape (no wrap break is taken from it)', () => {
    const b64line = 'A'.repeat(64);
    const text = `${E}]0;t\n${b64line}\n${b64line}\x07${S}\n${b64line}\nnext\n`;
    const out = redact(text);
    expect(out).toBe(`${E}]0;t\n${b64line}\n${b64line}\x07[REDACTED:K]\n${b64line}\nnext\n`);
  });

  it('does not join ordinary lines, only wrap-length base64 lines', () => {
    expect(redact(`${S.slice(0, 14)}\n${S.slice(14)}\n`)).toBe(`${S.slice(0, 14)}\n${S.slice(14)}\n`);
  });

  it('takes a wrap break after a line of WRAP_MIN_COLUMNS base64 characters, not one fewer', () => {
    // Lines shorter than a wrap are not walked: the length is checked first, against the whole line
    // (every 2-way split puts part of it in an earlier write).
    const split = (pad: number) => `${'A'.repeat(pad)}${S.slice(0, 14)}\n${S.slice(14)}\n`;
    expect(redact(split(WRAP_MIN_COLUMNS - 14))).toBe(`${'A'.repeat(WRAP_MIN_COLUMNS - 14)}[REDACTED:K]\n`);
    expect(redact(split(WRAP_MIN_COLUMNS - 15))).toBe(split(WRAP_MIN_COLUMNS - 15));
  });

  it('takes a wrap break only after a line of at most WRAP_MAX_COLUMNS base64 characters', () => {
    // S is all base64url, so its first 14 bytes end a base64 line and the rest starts the next.
    const split = (pad: number) => `${'A'.repeat(pad)}${S.slice(0, 14)}\n${S.slice(14)}\n`;
    expect(redact(split(WRAP_MAX_COLUMNS - 14))).toBe(`${'A'.repeat(WRAP_MAX_COLUMNS - 14)}[REDACTED:K]\n`);
    // One column wider is no wrapped output: the break stays, and so does the line split.
    expect(redact(split(WRAP_MAX_COLUMNS - 13))).toBe(split(WRAP_MAX_COLUMNS - 13));
  });

  it('masks a value split across 64 KiB writes inside a line of megabytes of base64-looking bytes', () => {
    // The line is long past WRAP_MAX_COLUMNS, so the line check stops looking at it; the value
    // matcher must still see the seam: a write boundary at every offset of the value.
    const pad = 'x'.repeat(3 * 65536 - 10);
    const text = Buffer.from(`${pad}${S}${'x'.repeat(2 * 65536)}\n${S.slice(0, 14)}\n${S.slice(14)}\n`);
    const want = Buffer.from(`${pad}[REDACTED:K]${'x'.repeat(2 * 65536)}\n${S.slice(0, 14)}\n${S.slice(14)}\n`);
    expect(r.redactBuffer(text).output.equals(want)).toBe(true);
    for (let shift = 0; shift <= S.length; shift++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < text.length; ) {
        const n = at === 0 ? 65536 - 10 + shift : 65536;
        chunks.push(text.subarray(at, at + n));
        at += n;
      }
      const out = runStream(r, chunks);
      expect(out.output.equals(want), `shift ${shift}`).toBe(true);
      expect(out.count).toBe(1);
    }
  });

  it('builds each write\'s view in one shared buffer without one stream clobbering another (stdout and stderr)', () => {
    // Colour codes inside the value, writes of 64 KiB, two streams pushed in turn: every view is built
    // in the same scratch buffer, so a view or held bytes that outlived its push would be overwritten.
    const line = (i: number) => `${E}[2m${i}${E}[0m ${S.slice(0, 9)}${E}[31m${S.slice(9, 20)}${E}[0m${S.slice(20)} ${E}[32mok${E}[0m\n`;
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => line(i)).join(''));
    const a = r.stream();
    const b = r.stream();
    const outA: Buffer[] = [];
    const outB: Buffer[] = [];
    // Different cuts per stream, so each ends its writes inside a value at other places.
    for (let at = 0, k = 0; at < text.length; k++) {
      const n = 65536 - 37 * k;
      outA.push(a.push(text.subarray(at, at + n)));
      outB.push(b.push(text.subarray(at + 11, at + n + 11)));
      at += n;
    }
    outA.push(a.end());
    const tailB = Buffer.concat([...outB, b.end()]);
    const whole = r.redactBuffer(text).output;
    expect(Buffer.concat(outA).equals(whole)).toBe(true);
    expect(tailB.equals(r.redactBuffer(text.subarray(11)).output)).toBe(true);
    expect(a.count).toBe(3000);
    expect(whole.includes(S.slice(9, 20))).toBe(false);
  });
});
