import { chmodSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from './helpers.js';

// Personal mode, as the attack runs: the folder above OUTLOOP_HOME is writable by every user, so another
// user could swap config.yaml. exec refuses (78) and doctor says why; made private again, it runs.
describe('a config folder another user could swap', () => {
  let e: E2E;
  let mode: number;
  beforeAll(() => {
    e = makeE2E(['acme']);
    e.writeRecipe('hi', 'service: hi\nrecipes:\n  say:\n    description: say hi\n    run: [echo, hi]\n');
    e.writeConfig(configYaml(e, { acme: 'hi:\n  allow: ["*"]' }));
    mode = statSync(e.root).mode & 0o7777;
  });
  afterAll(() => {
    chmodSync(e.root, mode);
    e?.cleanup();
  });

  it('is refused by exec and explained by doctor', async () => {
    expect((await e.cli(['exec', 'hi.say'])).status).toBe(0);
    chmodSync(e.root, 0o777);
    const r = await e.cli(['exec', 'hi.say', '--json']);
    expect(r.status).toBe(78);
    const out = JSON.parse(r.stdout) as { code: string; reason: string };
    expect(out.code).toBe('unsafe_config');
    expect(out.reason).toContain(`${e.root} is writable by every user (mode 0777)`);
    const d = await e.cli(['doctor', '--json']);
    const report = JSON.parse(d.stdout) as { findings: { check: string; severity: string; message: string; fix?: string }[] };
    expect(report.findings).toContainEqual(expect.objectContaining({ check: 'config', severity: 'fail', message: expect.stringContaining(`${e.root} is writable by every user`), fix: expect.stringContaining('chmod go-w') }));
    chmodSync(e.root, 0o755);
    expect((await e.cli(['exec', 'hi.say'])).status).toBe(0);
  }, 60_000);
});
