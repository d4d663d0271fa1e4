import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { MAX_ESCAPE_BYTES } from '../../src/redact/noise.js';
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
});
