import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, type E2E, leakForms, makeE2E, plantedSecret, probeLines, stripeGrant, until } from './helpers.js';

/**
 * `outloop redact`: stdin to stdout through the same redactor as exec, with the values of this tenant's
 * grants (read only after the tenant gates) plus the shape rules; shapes alone outside every project;
 * audited as mode redact with its count; a denial opens no store.
 */
const ACME = plantedSecret('acme');
const GLOBEX = plantedSecret('globex');
// A GitHub token shape nobody injected (not a real token).
const SHAPED = 'ghp_' + 'Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6';

describe('outloop redact', () => {
  let e: E2E;
  beforeAll(async () => {
    e = makeE2E();
    e.writeConfig(configYaml(e, {
      acme: stripeGrant('acme'),
      globex: stripeGrant('globex'),
    }));
    await e.setSecret('local:acme/stripe', ACME);
    await e.setSecret('local:globex/stripe', GLOBEX);
  });
  afterAll(() => e.cleanup());

  const input = () => [
    `\x1b[32mok\x1b[0m key=${ACME}`,
    `b64 ${Buffer.from(`user:${ACME}`).toString('base64')}`,
    `hex ${Buffer.from(ACME).toString('hex').toUpperCase()}`,
    `json ${JSON.stringify({ k: `${ACME}/x` }).replaceAll('/', '\\/')}`,
    `found ${SHAPED}`,
    `other tenant ${GLOBEX}`,
    'sha512-Ux3yQ7qR1oZKx6M6YpXnJ0q3j5c4h2Nf8b6Q9x0c1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6q==',
    '',
  ].join('\n');

  it("masks this tenant's values in every form, and secret shapes; leaves the rest byte-identical", async () => {
    const r = await e.cli(['redact'], { input: input() });
    expect(r.status).toBe(0);
    for (const form of leakForms(ACME)) expect(r.stdout).not.toContain(form.toString('latin1'));
    expect(r.stdout).not.toContain(ACME.slice(0, 16));
    expect(r.stdout).not.toContain(SHAPED);
    expect(r.stdout).toContain('[REDACTED:STRIPE_KEY]');
    expect(r.stdout).toContain('[REDACTED:github-pat]');
    // Colours survive; everyday noise passes untouched; another tenant's value is not this tenant's to read.
    expect(r.stdout).toContain('\x1b[32mok\x1b[0m key=');
    expect(r.stdout).toContain('sha512-Ux3yQ7');
    expect(r.stdout).toContain(`other tenant ${GLOBEX}`);
    expect(r.stderr).toMatch(/outloop: \d+ redactions \(audit /);
    const end = e.audit().filter((a) => a.mode === 'redact' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ decision: 'allow', tenant: 'acme', exitCode: 0 });
    expect(end.redactions).toBeGreaterThanOrEqual(5);
    expect((end.secrets as { name: string; fingerprint?: string }[]).map((s) => s.name)).toEqual(['STRIPE_KEY']);
    expect(JSON.stringify(e.audit())).not.toContain(ACME);
  });

  it('outside every project: shape rules alone, and no store is opened', async () => {
    const probe = join(e.root, 'probe-outside.log');
    const r = await e.cli(['redact', '-q'], { input: input(), cwd: e.root, probe });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(SHAPED);
    expect(r.stdout).toContain(`key=${ACME}`);
    expect(probeLines(probe)).toEqual([]);
    const end = e.audit().filter((a) => a.mode === 'redact' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ decision: 'allow', tenant: null });
  });

  it.each([
    ['a copied skill asserting another tenant', ['redact', '--tenant', 'globex'], undefined, 'wrong_tenant'],
    ['a service this tenant has no grant for', ['redact', '--service', 'github'], undefined, 'service_not_granted'],
    ['--tenant outside every project', ['redact', '--tenant', 'acme'], 'root', 'no_tenant'],
  ])('denied before any value is read: %s', async (_what, args, where, code) => {
    const probe = join(e.root, `probe-${code}.log`);
    const r = await e.cli(args as string[], { input: `x ${ACME}\n`, probe, ...(where ? { cwd: e.root } : {}) });
    expect(r.status).toBe(77);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).toMatch(/next: /);
    expect(probeLines(probe)).toEqual([]);
    const end = e.audit().filter((a) => a.mode === 'redact').at(-1)!;
    expect(end).toMatchObject({ decision: 'deny', code, phase: 'end' });
  });

  it('a value printed in two pieces with a pause, on a live pipe: the caller\'s prefix comes back as sent (no oracle), the rest is masked', async () => {
    // A real pipeline, so outloop sees a pause on a live stdin: the writer holds the pipe open until the
    // test has seen the released prefix (an event, not a fixed sleep) and then lets it write the rest.
    const go = join(e.root, 'redact-go');
    const writer = `printf 'start %s' "$A"; while [ ! -e "$GO" ]; do sleep 0.05; done; printf '%s end\\n' "$B"`;
    const child = spawn('sh', ['-c', `{ ${writer}; } | "$NODE" "$BIN" redact -q`], {
      cwd: e.projects.acme,
      env: { ...e.env, A: ACME.slice(0, 20), B: ACME.slice(20), NODE: process.execPath, BIN, GO: go },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const closed = new Promise<number | null>((r) => child.once('close', r));
    await until(() => out.length >= `start ${ACME.slice(0, 20)}`.length, 'the prefix to be released during the pause');
    const duringPause = out;
    writeFileSync(go, '');
    const status = await closed;
    expect(status).toBe(0);
    expect(duringPause).toBe(`start ${ACME.slice(0, 20)}`);
    expect(out).toBe(`start ${ACME.slice(0, 20)}[REDACTED:STRIPE_KEY] end\n`);
  });
});
