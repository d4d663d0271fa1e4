import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { BATCH, beyondNodeRoots, pipeRedacted, redactHeaderValues } from '../../src/sandbox/tls-intercept.js';
import { replyRedactor } from '../../src/sandbox/tls-placeholder.js';

const VALUE = 'ghp_RealValue0123456789abcdefABCDEF';
const redactor = new Redactor([{ name: 'T', value: VALUE }]);

function sink(opts: { highWaterMark?: number; slow?: boolean } = {}) {
  const got: Buffer[] = [];
  const w = new Writable({
    highWaterMark: opts.highWaterMark ?? 16384,
    write(chunk: Buffer, _e, cb) {
      got.push(chunk);
      w.emit('chunk');
      if (opts.slow) setImmediate(cb);
      else cb();
    },
  });
  return { w, got, text: () => Buffer.concat(got).toString('latin1') };
}

describe('reply redaction in the placeholder proxy', () => {
  it("the proxy's reply redactor masks the real value and its derived forms, whole and streamed; dumps and rewrites are left to the output redactor", async () => {
    const proxy = await replyRedactor([{ name: 'T', service: 's', sentinel: 'x', value: VALUE, hosts: [], surfaces: new Set() }]);
    const echo = `{"token":"${VALUE}","basic":"${Buffer.from(`u:${VALUE}`).toString('base64')}","b64":"${Buffer.from(VALUE).toString('base64')}","url":"${encodeURIComponent(`a=${VALUE}`)}"}\n`;
    const whole = proxy.redactBuffer(Buffer.from(echo)).output.toString();
    const s = proxy.stream();
    const pieces = [echo.slice(0, 20), echo.slice(20, 61), echo.slice(61)].map((p) => s.push(Buffer.from(p)));
    const streamed = Buffer.concat([...pieces, s.end()]).toString();
    for (const out of [whole, streamed]) {
      expect(out).not.toContain(VALUE);
      expect(out).not.toContain(Buffer.from(VALUE).toString('base64').slice(0, 20));
      expect(out.match(/\[REDACTED:T\]/g)).toHaveLength(4);
    }
    // A hex dump of the value: masked by the full redactor (the child's output), passed by the reply's.
    const dump = Buffer.from(VALUE).toString('hex').match(/.{1,32}/g)!.map((h, i) => `${(i * 16).toString(16).padStart(8, '0')}: ${h.match(/../g)!.join(' ')}\n`).join('');
    expect(redactor.redactBuffer(Buffer.from(dump)).count).toBeGreaterThan(0);
    expect(proxy.redactBuffer(Buffer.from(dump)).output.toString()).toBe(dump);
  });

  it('header values are redacted in one pass and stay in their places', () => {
    const b64 = Buffer.from(`u:${VALUE}`).toString('base64');
    const raw = ['Content-Type', 'application/json', 'X-Echo', `token=${VALUE}`, 'X-Basic', `Basic ${b64}`, 'X-Plain', 'nothing here'];
    redactHeaderValues(redactor, raw);
    expect(raw.filter((_, i) => i % 2 === 0)).toEqual(['Content-Type', 'X-Echo', 'X-Basic', 'X-Plain']);
    expect(raw[1]).toBe('application/json');
    expect(raw[3]).toBe('token=[REDACTED:T]');
    expect(raw[5]).not.toContain(b64);
    expect(raw[5]).toContain('[REDACTED:T]');
    expect(raw[7]).toBe('nothing here');
  });

  it('a long reply: the value is masked across chunk seams and batch boundaries, every other byte kept', async () => {
    const src = new PassThrough();
    const { w, text } = sink();
    pipeRedacted(src, w, redactor.stream());
    const filler = 'x'.repeat(BATCH - 10);
    const body = filler + VALUE + 'y'.repeat(1000) + VALUE.slice(0, 7);
    // Seams inside the value, and the value straddling the first batch.
    for (let i = 0; i < body.length; i += 4093) src.write(Buffer.from(body.slice(i, i + 4093), 'latin1'));
    src.end(Buffer.from(VALUE.slice(7) + 'z', 'latin1'));
    await once(w, 'finish');
    expect(text()).not.toContain(VALUE);
    expect(text()).toBe(filler + '[REDACTED:T]' + 'y'.repeat(1000) + '[REDACTED:T]z');
  });

  it('a slow stream is not held until a batch fills: a piece reaches the child before the reply ends', async () => {
    const src = new PassThrough();
    const { w, text } = sink();
    pipeRedacted(src, w, redactor.stream());
    src.write('data: first event\n\n');
    await once(w, 'chunk');
    expect(text()).toBe('data: first event\n\n');
    src.end('data: last\n\n');
    await once(w, 'finish');
    expect(text()).toBe('data: first event\n\ndata: last\n\n');
  });

  it('backpressure: a child that reads slowly pauses the upstream reply', async () => {
    const src = new PassThrough();
    const { w, text } = sink({ highWaterMark: 1024, slow: true });
    pipeRedacted(src, w, redactor.stream());
    const big = Buffer.alloc(BATCH * 4, 'a');
    const paused = once(src, 'pause');
    src.end(big);
    await paused;
    await once(w, 'finish');
    expect(text().length).toBe(big.length);
  });

  it('a client going away ends the upstream read', async () => {
    const src = new PassThrough();
    const { w } = sink();
    pipeRedacted(src, w, redactor.stream());
    src.write('partial');
    w.destroy();
    await once(src, 'close');
    expect(src.destroyed).toBe(true);
  });

  it("node children get only the certificates node lacks; node's own roots are recognised in any line wrapping", () => {
    const root = rootCertificates[0]!;
    const body = root.replace(/-----[^-]+-----|\s+/g, '');
    const rewrapped = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,76}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const foreign = '-----BEGIN CERTIFICATE-----\nMIIBforeign\n-----END CERTIFICATE-----';
    expect(beyondNodeRoots([root, foreign, rewrapped])).toEqual([foreign]);
  });
});
