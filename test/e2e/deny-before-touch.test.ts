import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E, probeEntries, probeLines } from './helpers.js';

/**
 * "A denied request never touches the secret backend", observed from outside: the CLI runs with a preload
 * (fixtures/store-probe.mjs) that logs every open/read/stat of store.json or store.key. Denials, `check`
 * and `--dry-run` must leave the log empty; an allowed exec must not (which proves the probe sees reads).
 */
const RECIPES = `service: dt
secrets: [TOKEN]
recipes:
  get:
    description: print a token-derived line
    risk: read
    params:
      n: { type: integer, default: 1, min: 1, max: 9 }
    run: [sh, -c, 'echo "n={{params.n}} $T"']
    env: { T: "{{secrets.TOKEN}}" }
  other:
    description: not granted to acme
    run: [sh, -c, 'echo other']
    env: { T: "{{secrets.TOKEN}}" }
`;

describe('deny before touching the store', () => {
  let e: E2E;
  let probe: string;
  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    e.writeRecipe('dt', RECIPES);
    e.writeRecipe('nope', RECIPES.replace(/^service: dt$/m, 'service: nope'));
    e.writeConfig(
      configYaml(e, {
        acme: 'dt:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [get]',
        globex: 'dt:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]',
      }),
    );
    await e.setSecret('local:acme/token', 'deny-before-touch-token-1234567890');
  });
  beforeEach(() => {
    probe = join(e.root, 'probe.log');
    rmSync(probe, { force: true });
  });
  afterAll(() => e?.cleanup());

  const untouched: [string, string[], number, (() => string) | undefined][] = [
    ['wrong tenant', ['exec', 'dt.get', '--tenant', 'globex'], 77, undefined],
    ['recipe not granted', ['exec', 'dt.other'], 77, undefined],
    ['service not granted', ['exec', 'nope.get'], 77, undefined],
    ['unknown service', ['exec', 'nop.get'], 64, undefined],
    ['bad parameter', ['exec', 'dt.get', '-p', 'n=99'], 65, undefined],
    ['unknown parameter value type', ['exec', 'dt.get', '-p', 'n=1;id'], 65, undefined],
    ['denied, --json', ['exec', 'dt.get', '--tenant', 'globex', '--json'], 77, undefined],
    ['check, allowed', ['check', 'dt.get'], 0, undefined],
    ['check, denied', ['check', 'dt.other'], 77, undefined],
    ['check --json', ['check', 'dt.get', '--json'], 0, undefined],
    ['dry run', ['exec', 'dt.get', '--dry-run'], 0, undefined],
    ['dry run --json', ['exec', 'dt.get', '--dry-run', '--json'], 0, undefined],
    ['no tenant', ['exec', 'dt.get'], 77, () => e.root],
  ];
  for (const [what, args, code, cwd] of untouched) {
    it(`${what}: exit ${code}, store never opened`, async () => {
      const r = await e.cli(args, { probe, ...(cwd ? { cwd: cwd() } : {}) });
      expect({ status: r.status, stderr: r.status === code ? '' : r.stderr }).toEqual({ status: code, stderr: '' });
      expect(probeLines(probe)).toEqual([]);
    });
  }

  it('an allowed exec does open the store (the probe works), after its start record is written', async () => {
    const r = await e.cli(['exec', 'dt.get', '--json'], { probe });
    expect(r.status).toBe(0);
    const env = JSON.parse(r.stdout) as { stdout: string; auditId: string };
    expect(env.stdout).toBe('n=1 [REDACTED:TOKEN]\n');
    const entries = probeEntries(probe);
    expect(entries.map((p) => p.path)).toEqual(expect.arrayContaining([join(e.home, 'store.json'), join(e.home, 'store.key')]));
    // Every store access happened with this attempt's "start" record already the last line of the log.
    for (const p of entries) expect(p.lastAudit).toBe(`start:${env.auditId}`);
  });

  it('check and dry-run show the plan with the secret as [SECRET:TOKEN]', async () => {
    const c = await e.cli(['check', 'dt.get', '-p', 'n=3'], { probe });
    expect(c.stdout).toContain('env T=[SECRET:TOKEN]');
    const d = await e.cli(['exec', 'dt.get', '-p', 'n=3', '--dry-run'], { probe });
    expect(d.stdout).toContain('env T=[SECRET:TOKEN]');
    expect(d.stdout).toContain(`'echo "n=3 $T"'`);
    expect(probeLines(probe)).toEqual([]);
  });
});
