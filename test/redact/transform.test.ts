import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Redactor, redactTransform } from '../../src/redact/index.js';

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
