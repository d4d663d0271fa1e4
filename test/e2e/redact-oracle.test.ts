import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, makeStripeE2E } from './helpers.js';

/**
 * Issue 16 item 1, carried out through the real CLI: `outloop redact` as a prefix oracle. Each call
 * sends 64 guesses `known + c`, separated by bare \r; under the old held-prefix rule the one guess that
 * starts the key came back masked, and the key fell one character per call. With whole values only,
 * every guess comes back as sent. The burst of calls is on record (`rate` in each redact record).
 */
const ABC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const KEY = 'acme_key_' + 'Qx7-pL2_vR9mZk4TfW0aYc8NbH3sJdE';

describe('outloop redact is no prefix oracle', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await makeStripeE2E(KEY);
  });
  afterAll(() => e.cleanup());

  /** Up to `max` calls; stops when a call singles out no guess. */
  async function attack(known: string, abc: string, max: number): Promise<{ learned: string; calls: number }> {
    let calls = 0;
    while (calls < max) {
      calls++;
      const guesses = [...abc].map((c) => known + c);
      const r = await e.cli(['redact', '-q'], { input: guesses.join('\r') });
      expect(r.status).toBe(0);
      const segs = r.stdout.split('\r');
      const hit = guesses.filter((g, i) => segs[i] !== g);
      if (hit.length !== 1) break;
      known = hit[0]!;
    }
    return { learned: known, calls };
  }

  it('64 guesses a call separated by \\r: nothing comes back masked, nothing is learned', async () => {
    expect(await attack('acme_key_', ABC, 4)).toEqual({ learned: 'acme_key_', calls: 1 });
  });

  it('the same through the hex form', async () => {
    const hex = Buffer.from(KEY).toString('hex');
    expect(await attack(hex.slice(0, 18), '0123456789abcdef', 4)).toEqual({ learned: hex.slice(0, 18), calls: 1 });
  });

  it('the whole key is still masked, and a burst of calls shows in the audit', async () => {
    const before = e.audit().filter((a) => a.mode === 'redact' && a.phase === 'end').length;
    for (let i = 0; i < 5; i++) {
      const r = await e.cli(['redact', '-q'], { input: `try ${i}\rk=${KEY}\r` });
      expect(r.stdout).toBe(`try ${i}\rk=[REDACTED:STRIPE_KEY]\r`);
    }
    const ends = e.audit().filter((a) => a.mode === 'redact' && a.phase === 'end');
    expect(ends.length).toBe(before + 5);
    const rates = ends.slice(-5).map((a) => a.rate as { calls: number; seconds: number });
    // Every call of this file ran within the minute: the count climbs with each one.
    expect(rates.map((r) => r.seconds)).toEqual([60, 60, 60, 60, 60]);
    expect(rates.map((r) => r.calls)).toEqual([before + 1, before + 2, before + 3, before + 4, before + 5]);
    expect(JSON.stringify(e.audit())).not.toContain(KEY);
  });
});
