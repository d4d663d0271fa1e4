import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, configYaml, curlRecipe, type E2E, makeE2E, plantedSecret, startApi } from './helpers.js';

/**
 * The main job with real curl against a local API: policy allows, the secret reaches the API only through
 * curl's stdin config, the API echoes it back, and the agent sees it redacted.
 */
describe('exec with real curl', () => {
  let e: E2E;
  let api: Api;
  const acmeKey = plantedSecret('acme');
  const globexKey = plantedSecret('globex');
  const initechKey = plantedSecret('initech');

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex', 'initech']);
    api = await startApi([acmeKey, globexKey, initechKey]);
    e.writeRecipe('api', curlRecipe('api', api.port));
    e.writeConfig(
      configYaml(e, {
        acme: 'api:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [list]',
        globex: 'api:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]',
        initech: 'api:\n  secrets: { TOKEN: "env:INITECH_API_TOKEN" }\n  allow: [list]',
      }),
    );
    await e.setSecret('local:acme/token', acmeKey);
    await e.setSecret('local:globex/token', globexKey);
  });
  afterAll(async () => {
    await api?.close();
    e?.cleanup();
  });

  it('sends the key as a header, and shows the echoed key as [REDACTED:TOKEN]', async () => {
    const before = api.seen.length;
    const r = await e.cli(['exec', 'api.list', '-p', 'limit=7'], { cwd: e.projects.acme });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The server saw the right header and the validated parameter.
    const req = api.seen.slice(before);
    expect(req).toHaveLength(1);
    expect(req[0]!.authorization).toBe(`Bearer ${acmeKey}`);
    expect(req[0]!.url).toBe('/v1/x?limit=7');
    // The body echoed it; the agent sees it redacted.
    const body = JSON.parse(r.stdout) as { limit: string; debug: { authorization: string } };
    expect(body.limit).toBe('7');
    expect(body.debug.authorization).toBe('Bearer [REDACTED:TOKEN]');
    expect(r.stdout).not.toContain(acmeKey);
  });

  it('--json prints exactly the contract envelope, with the redaction counted', async () => {
    const r = await e.cli(['exec', 'api.list', '-p', 'limit=2', '--json'], { cwd: e.projects.acme });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const env = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(env).sort()).toEqual(['auditId', 'decision', 'exitCode', 'ok', 'redactions', 'stderr', 'stdout']);
    expect(env).toMatchObject({ ok: true, decision: 'allow', exitCode: 0, stderr: '' });
    expect(env.redactions).toBeGreaterThanOrEqual(1);
    expect(env.stdout).toContain('Bearer [REDACTED:TOKEN]');
    expect(r.stdout).not.toContain(acmeKey);
    // The envelope's audit id is the attempt on record.
    const recs = e.audit().filter((x) => x.id === env.auditId);
    expect(recs.map((x) => x.phase)).toEqual(['start', 'end']);
    expect(recs[1]).toMatchObject({ decision: 'allow', exitCode: 0, redactions: env.redactions, tenant: 'acme' });
  });

  it('an HTTP error from the API is the child exit code, with the body still redacted', async () => {
    // initech's key comes from the broker's environment (env:); here it holds a key the API refuses.
    const r = await e.cli(['exec', 'api.list', '--json'], { cwd: e.projects.initech, env: { INITECH_API_TOKEN: 'not-the-right-one-0123456789' } });
    const env = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(r.status).toBe(22); // curl --fail-with-body: HTTP >= 400
    expect(env).toMatchObject({ ok: false, decision: 'allow', exitCode: 22 });
    expect(String(env.stdout)).toContain('[REDACTED:TOKEN]');
    expect(r.stdout).not.toContain('not-the-right-one-0123456789');
  });

  it('two tenants, two keys: each project reaches the API with its own key', async () => {
    const before = api.seen.length;
    const a = await e.cli(['exec', 'api.list', '-p', 'limit=1'], { cwd: e.projects.acme });
    const g = await e.cli(['exec', 'api.list', '-p', 'limit=2'], { cwd: e.projects.globex });
    const i = await e.cli(['exec', 'api.list', '-p', 'limit=3'], { cwd: e.projects.initech, env: { INITECH_API_TOKEN: initechKey } });
    expect([a.status, g.status, i.status]).toEqual([0, 0, 0]);
    const seen = api.seen.slice(before).map((s) => [s.url, s.authorization]);
    expect(seen).toEqual([
      ['/v1/x?limit=1', `Bearer ${acmeKey}`],
      ['/v1/x?limit=2', `Bearer ${globexKey}`],
      ['/v1/x?limit=3', `Bearer ${initechKey}`],
    ]);
    for (const r of [a, g, i]) {
      expect(r.stdout).toContain('[REDACTED:TOKEN]');
      for (const k of [acmeKey, globexKey, initechKey]) expect(r.stdout + r.stderr).not.toContain(k);
    }
    const ends = e.audit().filter((x) => x.phase === 'end').slice(-3);
    expect(ends.map((x) => x.tenant)).toEqual(['acme', 'globex', 'initech']);
  });

  it('a subfolder of a project belongs to that project\'s tenant', async () => {
    const sub = `${e.projects.globex}/src/deep`;
    mkdirSync(sub, { recursive: true });
    const before = api.seen.length;
    const r = await e.cli(['exec', 'api.list'], { cwd: sub });
    expect(r.status).toBe(0);
    expect(api.seen.slice(before).map((s) => s.authorization)).toEqual([`Bearer ${globexKey}`]);
  });

  it('asserting the other tenant is denied (77) and nothing reaches the API', async () => {
    const before = api.seen.length;
    const r = await e.cli(['exec', 'api.list', '--tenant', 'acme', '--json'], { cwd: e.projects.globex });
    expect(r.status).toBe(77);
    const env = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(env).toMatchObject({ ok: false, decision: 'deny', code: 'wrong_tenant' });
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['ok', 'decision', 'code', 'reason', 'next']));
    expect(api.seen.length).toBe(before);
  });

  it('a parameter cannot move the request to another host (host gate, 77) and nothing is sent', async () => {
    e.writeRecipe(
      'hop',
      `service: hop
hosts: ["127.0.0.1:${api.port}"]
secrets: [TOKEN]
recipes:
  get:
    description: get a path
    params:
      path: { type: string, pattern: "^[a-z0-9/@:.]+$" }
    run: [curl, -sS, -K, -, "http://{{params.path}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
`,
    );
    e.writeConfig(
      configYaml(e, {
        acme: 'api:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [list]\nhop:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [get]',
        globex: 'api:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]',
        initech: 'api:\n  secrets: { TOKEN: "env:INITECH_API_TOKEN" }\n  allow: [list]',
      }),
    );
    const before = api.seen.length;
    const ok = await e.cli(['exec', 'hop.get', '-p', `path=127.0.0.1:${api.port}/v1/x`], { cwd: e.projects.acme });
    expect(ok.status).toBe(0);
    const bad = await e.cli(['exec', 'hop.get', '-p', `path=127.0.0.1:${api.port}@127.0.0.2:${api.port}/v1/x`], { cwd: e.projects.acme });
    expect(bad.status).toBe(77);
    expect(bad.stderr).toContain('host_not_allowed');
    expect(api.seen.length).toBe(before + 1);
  });
});
