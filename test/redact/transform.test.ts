import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { redactTransform } from '../../src/redact/transform.js';
import { builtinShapeRules, compileShapes } from '../../src/redact/shapes/index.js';
import { MAX_LINE, ShapeStream } from '../../src/redact/shapes/stream.js';

describe('redactTransform', () => {
  it('redacts a secret split across chunks in a pipeline and flushes the held tail', async () => {
    const r = new Redactor([{ name: 'TOKEN', value: 'ghp_0123456789abcdef' }]);
    const chunks = ['token ghp_01', '23456789', 'abcdef ok\n', 'tail ghp_0123'];
    const out: Buffer[] = [];
    let counted = -1;
    await pipeline(
      Readable.from(chunks.map((c) => Buffer.from(c))),
      redactTransform(r.stream(), { onCount: (n) => (counted = n) }),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          out.push(chunk);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).toString()).toBe('token [REDACTED:TOKEN] ok\ntail [REDACTED:TOKEN]');
    expect(counted).toBe(2);
  });

  it('passes text with no secret through unchanged', async () => {
    const r = new Redactor([{ name: 'TOKEN', value: 'ghp_0123456789abcdef' }]);
    const out: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('héllo '), Buffer.from('gh')]), redactTransform(r.stream()), async function* (src) {
      for await (const c of src) out.push(c as Buffer);
    });
    expect(Buffer.concat(out).toString()).toBe('héllo gh');
  });
});

describe('redactTransform pauses', () => {
  it('releases a held prefix masked when the input pauses, and masks the rest when it comes', async () => {
    const r = new Redactor([{ name: 'TOKEN', value: 'ghp_0123456789abcdef' }]);
    const t = redactTransform(r.stream(), { idleMs: 50 });
    const out: string[] = [];
    t.on('data', (c: Buffer) => out.push(c.toString()));
    t.write(Buffer.from('token ghp_01234567'));
    await new Promise((res) => setTimeout(res, 150));
    expect(out.join('')).toBe('token [REDACTED:TOKEN]');
    t.end(Buffer.from('89abcdef ok\n'));
    await new Promise((res) => t.on('end', res));
    expect(out.join('')).toBe('token [REDACTED:TOKEN] ok\n');
  });
});

describe('redactTransform on long writes that end mid-line (output written in parts)', () => {
  const V = 'sk_live_51Habc123XYZsecretQ9';
  const GH = 'ghp_a8Kd92LmQz7XvB4nR1tYcW6pE3sF0hJuNgM5';
  const E = '\x1b';
  const line = (i: number): string =>
    i % 97 === 0 ? `${E}[2m${i}${E}[0m key=${V.slice(0, 11)}${E}[31m${V.slice(11)}${E}[0m gh=${GH}\n`
    : i % 331 === 0 ? `${'y'.repeat(MAX_LINE + 700)} ${GH}\n`
    : i % 503 === 0 ? `-----BEGIN RSA PRIVATE KEY-----\n${'MIIE'.repeat(16)}\n-----END RSA PRIVATE KEY-----\n`
    : `${E}[32minfo${E}[0m request ${i} completed path=/v1/items/${i}\n`;
  const text = Buffer.from(Array.from({ length: 6000 }, (_, i) => line(i)).join(''));
  const r = new Redactor([{ name: 'K', value: V }], { shapes: compileShapes(builtinShapeRules()) });
  const want = r.redactBuffer(text).output;

  it('writes the same bytes as the whole-buffer redaction, with a slow consumer holding every part', async () => {
    // Writes of 64 KiB shifted so each ends inside a line. The consumer keeps every part and answers on
    // a later turn: a part that shared memory with a buffer the redactor reuses would be overwritten.
    const chunks: Buffer[] = [];
    for (let at = 0, k = 0; at < text.length; k++) {
      const n = 65536 - 101 * k;
      chunks.push(Buffer.from(text.subarray(at, at + n)));
      at += n;
    }
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      redactTransform(r.stream(), { idleMs: 0 }),
      new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, cb) {
          out.push(chunk);
          setImmediate(cb);
        },
      }),
    );
    expect(Buffer.concat(out).equals(want)).toBe(true);
    expect(want.includes(V.slice(11))).toBe(false);
    expect(want.includes(GH)).toBe(false);
  });

  it('leaves the rest of a long write in place after the held line instead of copying it', () => {
    const s = new ShapeStream(compileShapes(builtinShapeRules()));
    expect(s.push(Buffer.from(`ok\ngh=${GH.slice(0, 10)}`)).toString()).toBe('ok\n');
    const head = `${GH.slice(10)} end\n`;
    const rest = `${'z'.repeat(8000)}\nnext line\n`;
    const chunk = Buffer.from(`${head}${rest}partial`);
    const parts = s.pushParts(chunk);
    expect(parts.map((p) => p.toString())).toEqual(['gh=[REDACTED:github-pat] end\n', rest]);
    // The rest of the write is a region of the caller's chunk, not a copy of it.
    expect(parts[1]!.buffer).toBe(chunk.buffer);
    expect(parts[1]!.byteOffset).toBe(chunk.byteOffset + head.length);
    expect(s.end().toString()).toBe('partial');
  });
});
