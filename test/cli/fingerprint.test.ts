import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, makeE2E, type E2E } from '../e2e/helpers.js';

// The audit log names each secret a run used by an HMAC fingerprint of its value, so a person holding a
// leaked key can ask "was this key used?" (`outloop audit lookup`) while the log never holds the value.
const VALUE = 'fp-secret-4c1d7e9a0b2f6e8d3a5c';
const OTHER = 'fp-other-value-77aa88bb99cc00dd';
const RECIPE = `service: fp
secrets: [TOKEN]
recipes:
  use:
    description: use the token
    risk: read
    run: [sh, -c, 'test -n "$T"']
    env: { T: "{{secrets.TOKEN}}" }
`;

let e: E2E;
beforeAll(async () => {
  e = makeE2E(['acme']);
  e.writeRecipe('fp', RECIPE);
  e.writeConfig(configYaml(e, { acme: 'fp:\n  secrets: { TOKEN: "local:acme/fp" }\n  allow: ["*"]' }));
  await e.setSecret('local:acme/fp', VALUE);
});
afterAll(() => e?.cleanup());

describe('secret fingerprints in the audit log', () => {
  it('end records carry a keyed fingerprint, not the value nor its plain hash; start records only the reference', async () => {
    expect((await e.cli(['exec', 'fp.use'])).status).toBe(0);
    const records = e.audit();
    const start = records.find((r) => r.phase === 'start')!;
    const end = records.filter((r) => r.phase === 'end').at(-1)!;
    expect(start.secrets).toEqual([{ name: 'TOKEN', ref: 'local:acme/fp' }]);
    const [s] = end.secrets as { name: string; ref: string; fingerprint: string }[];
    expect(s).toMatchObject({ name: 'TOKEN', ref: 'local:acme/fp' });
    expect(s!.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{32}$/);
    const plain = createHash('sha256').update(VALUE).digest('hex');
    const log = readFileSync(join(e.home, 'audit.jsonl'), 'utf8');
    expect(log).not.toContain(VALUE);
    expect(log).not.toContain(plain.slice(0, 32));
    expect(statSync(join(e.home, 'audit.key')).mode & 0o777).toBe(0o600);
  });

  it('the same value gets the same fingerprint across runs, even runs racing to create the key', async () => {
    const fresh = makeE2E(['acme']);
    try {
      fresh.writeRecipe('fp', RECIPE);
      fresh.writeConfig(configYaml(fresh, { acme: 'fp:\n  secrets: { TOKEN: "local:acme/fp" }\n  allow: ["*"]' }));
      await fresh.setSecret('local:acme/fp', VALUE);
      const runs = await Promise.all(Array.from({ length: 6 }, () => fresh.cli(['exec', 'fp.use'])));
      expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 0, 0, 0]);
      const fps = new Set(fresh.audit().filter((r) => r.phase === 'end').map((r) => (r.secrets as { fingerprint: string }[])[0]!.fingerprint));
      expect(fps.size).toBe(1);
    } finally {
      fresh.cleanup();
    }
  });

  it('`audit lookup` finds the attempts that used a value read from stdin, and exits 1 for a value never used', async () => {
    const hit = await e.cli(['audit', 'lookup', '--json'], { input: VALUE });
    expect(hit.status).toBe(0);
    const found = JSON.parse(hit.stdout) as { found: boolean; attempts: { recipe: string }[] };
    expect(found.found).toBe(true);
    expect(found.attempts.length).toBeGreaterThan(0);
    expect(found.attempts.every((a) => a.recipe === 'use')).toBe(true);
    expect(hit.stdout + hit.stderr).not.toContain(VALUE);

    const miss = await e.cli(['audit', 'lookup'], { input: OTHER });
    expect(miss.status).toBe(1);
    expect(miss.stdout).toContain('No recorded attempt used this value');
  });
});
