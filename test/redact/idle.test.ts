import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RedactingSink, endSink } from '../../src/broker/sinks.js';
import { IDLE_MS, Redactor } from '../../src/redact/index.js';

const S = 'sk_live_51Habc123XYZsecretQ9';
const r = new Redactor([{ name: 'STRIPE_KEY', value: S }]);

/** Apply a script of pushes ('idle' for a pause) and return everything written. */
function play(steps: (string | 'idle')[]): { out: string; count: number; idles: string[] } {
  const s = r.stream();
  const parts: Buffer[] = [];
  const idles: string[] = [];
  for (const step of steps) {
    if (step === 'idle') {
      const b = s.idle();
      idles.push(b.toString());
      parts.push(b);
    } else parts.push(s.push(Buffer.from(step)));
  }
  parts.push(s.end());
  return { out: Buffer.concat(parts).toString(), count: s.count, idles };
}

/** No 6-byte window of the value (from byte `from` on) may be visible. */
function expectNoFragment(out: string, from = 0): void {
  for (let i = from; i + 6 <= S.length; i++) expect(out, `fragment ${S.slice(i, i + 6)}`).not.toContain(S.slice(i, i + 6));
}

describe('pause rule (idle)', () => {
  it('releases a held prefix of 8+ bytes masked, and masks the rest when it comes after the pause', () => {
    const got = play(['key: ', S.slice(0, 11), 'idle', S.slice(11), ' ok\n']);
    expect(got.idles).toEqual(['[REDACTED:STRIPE_KEY]']);
    // The rest disappears into the mask already written: the output reads as if there was no pause.
    expect(got.out).toBe('key: [REDACTED:STRIPE_KEY] ok\n');
    expect(got.count).toBe(1);
    expectNoFragment(got.out);
  });

  it('releases a short prefix as-is but remembers it, so the rest is masked', () => {
    const got = play(['x ', 'sk_', 'idle', 'live_51Habc', 'idle', '123XYZsecretQ9!']);
    expect(got.idles[0]).toBe('sk_');
    // sk_ (3 bytes) went out as-is; live_51Habc completes 14 bytes, masked at the second pause; the rest joins that mask.
    expect(got.out).toBe('x sk_[REDACTED:STRIPE_KEY]!');
    expectNoFragment(got.out);
  });

  it('gives the rest its own mask when the prefix before the pause went out as-is', () => {
    const got = play(['x ', 'sk_', 'idle', `${S.slice(3)}!`]);
    expect(got.out).toBe('x sk_[REDACTED:STRIPE_KEY]!');
    expect(got.count).toBe(1);
  });

  it('survives a pause after every byte: at most the first 7 bytes pass, the rest is masked', () => {
    const steps: string[] = ['> '];
    for (const ch of S) steps.push(ch, 'idle');
    steps.push(' <\n');
    const got = play(steps);
    // Below the 8-byte threshold a prefix is released as-is (documented); from byte 8 on it is masked.
    expect(got.out).toBe(`> ${S.slice(0, 7)}[REDACTED:STRIPE_KEY] <\n`);
    expectNoFragment(got.out, 2);
    expect(got.out.startsWith('> ')).toBe(true);
    expect(got.out.endsWith(' <\n')).toBe(true);
  });

  it('passes a remembered prefix that turns out to be something else, and forgets it', () => {
    const got = play(['run sk_', 'idle', 'tests passed\n', S, '\n']);
    expect(got.out).toBe(`run sk_tests passed\n[REDACTED:STRIPE_KEY]\n`);
  });

  it('masks a prefix printed just before the end (the child blocked then died)', () => {
    for (const cut of [8, 14, 27]) {
      const got = play(['died: ', S.slice(0, cut)]);
      expect(got.out).toBe('died: [REDACTED:STRIPE_KEY]');
    }
    expect(play(['died: ', S.slice(0, 7)]).out).toBe(`died: ${S.slice(0, 7)}`);
  });

  it('is a no-op with nothing held, and after end', () => {
    const s = r.stream();
    expect(s.push(Buffer.from('plain text\n')).toString()).toBe('plain text\n');
    expect(s.idle().length).toBe(0);
    s.end();
    expect(s.idle().length).toBe(0);
  });
});

describe('RedactingSink idle timer', () => {
  it(`releases a held prefix masked after ${IDLE_MS} ms of silence, and masks the rest written seconds later`, async () => {
    const written: Buffer[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk);
        cb();
      },
    });
    const sink = new RedactingSink(r.stream(), dest);
    sink.write(Buffer.from(`Password: ${S.slice(0, 12)}`));
    await new Promise((res) => setTimeout(res, 30));
    expect(Buffer.concat(written).toString()).toBe('Password: ');
    await new Promise((res) => setTimeout(res, IDLE_MS + 150));
    expect(Buffer.concat(written).toString()).toBe('Password: [REDACTED:STRIPE_KEY]');
    await new Promise((res) => setTimeout(res, 400));
    sink.write(Buffer.from(`${S.slice(12)}\ndone\n`));
    await endSink(sink);
    const all = Buffer.concat(written).toString();
    expect(all).toBe('Password: [REDACTED:STRIPE_KEY]\ndone\n');
    expectNoFragment(all);
    expect(sink.count).toBe(1);
  });
});

describe('a real child that prints a prefix, blocks for a second, then the rest', () => {
  it('shows the prefix masked during the pause and never the value in clear', async () => {
    const { spawn } = await import('node:child_process');
    const written: { at: number; text: string }[] = [];
    const t0 = Date.now();
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push({ at: Date.now() - t0, text: chunk.toString() });
        cb();
      },
    });
    const sink = new RedactingSink(r.stream(), dest);
    const child = spawn('sh', ['-c', 'printf "token: %s" "$HEAD"; sleep 1; printf "%s\\n" "$REST"'], {
      env: { PATH: process.env.PATH, HEAD: S.slice(0, 12), REST: S.slice(12) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d: Buffer) => sink.write(d));
    child.stdout.on('end', () => sink.end());
    await new Promise((res) => setTimeout(res, 600));
    // Mid-pause: the prefix is out, masked, well before the rest is written.
    expect(written.map((w) => w.text).join('')).toBe('token: [REDACTED:STRIPE_KEY]');
    await new Promise((res) => sink.on('finish', res));
    const all = written.map((w) => w.text).join('');
    expect(all).toBe('token: [REDACTED:STRIPE_KEY]\n');
    expectNoFragment(all);
  });
});
