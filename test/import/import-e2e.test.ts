import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, curlRecipe, type E2E, filesContaining, makeE2E, plantedSecret, startApi } from '../e2e/helpers.js';

/**
 * `outloop secrets import` through the built CLI: a project's .env moves into the local store, config.yaml
 * gains the bindings and keeps everything else as written, and a following `outloop exec` uses the values
 * with its output redacted. No value ever shows in any output or in config.yaml.
 */
describe('outloop secrets import', () => {
  let e: E2E;
  let api: Api;
  const token = plantedSecret('tok#en');
  const extra = plantedSecret('extra');
  let config: string;
  let envFile: string;
  const cfgPath = () => join(e.home, 'config.yaml');
  const cfg = () => readFileSync(cfgPath(), 'utf8');
  const noValues = (...texts: string[]) => {
    for (const t of texts) {
      expect(t).not.toContain(token);
      expect(t).not.toContain(extra);
    }
  };

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    api = await startApi([token]);
    e.writeRecipe('api', curlRecipe('api', api.port, 'API_TOKEN'));
    config = `# Outloop config for the team.   (comments must survive an import)
storeKey: file

tenants:
  acme:
    projects: [${JSON.stringify(e.projects.acme)}]   # the web app
    services:
      api:
        allow: [list]      # only listing
  globex:
    projects:
      - ${JSON.stringify(e.projects.globex)}
    services: {}
`;
    e.writeConfig(config);
    envFile = join(e.projects.acme!, '.env');
    writeFileSync(envFile, `# local dev secrets\nexport API_TOKEN="${token}"   # the API\nEXTRA_SECRET='${extra}'\nEMPTY=\n`);
  });
  afterAll(async () => {
    await api?.close();
    e?.cleanup();
  });

  it('--dry-run shows what would move and writes nothing', async () => {
    const r = await e.cli(['secrets', 'import', '.env', '--service', 'api', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Dry run, nothing written');
    expect(r.stdout).toMatch(/API_TOKEN\s+local:acme\/api\/api_token/);
    expect(r.stdout).toMatch(/EXTRA_SECRET\s+local:acme\/api\/extra_secret/);
    noValues(r.stdout);
    expect(cfg()).toBe(config);
    expect(existsSync(join(e.home, 'store.json'))).toBe(false);
  });

  it('moves the values, binds them, keeps config.yaml as written, and prints no value', async () => {
    const r = await e.cli(['secrets', 'import', '.env', '--service', 'api']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Moved 2 variables from \.env into the local store, bound for tenant "acme", service "api":$/m);
    expect(r.stdout).toMatch(/API_TOKEN\s+local:acme\/api\/api_token/);
    expect(r.stdout).toContain('Skipped, empty: EMPTY.');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('.env still holds these values in clear: delete it (e.g. shred -u .env) once your scripts use outloop.');
    noValues(r.stdout);
    // Exactly two lines added, right after the grant's last line; every other byte as it was.
    expect(cfg()).toBe(
      config.replace(
        '        allow: [list]      # only listing\n',
        '        allow: [list]      # only listing\n        secrets:\n          API_TOKEN: local:acme/api/api_token\n          EXTRA_SECRET: local:acme/api/extra_secret\n',
      ),
    );
    // Not in clear (nor base64/hex) anywhere under OUTLOOP_HOME: config, store, audit, cache.
    expect(filesContaining(e.home, token)).toEqual([]);
    expect(filesContaining(e.home, extra)).toEqual([]);
  });

  it('a following exec uses the imported value, and its output is redacted', async () => {
    const before = api.seen.length;
    const r = await e.cli(['exec', 'api.list', '--json']);
    expect(r.status).toBe(0);
    expect(api.seen.slice(before).map((s) => s.authorization)).toEqual([`Bearer ${token}`]);
    const env = JSON.parse(r.stdout) as { stdout: string };
    expect(env.stdout).toContain('Bearer [REDACTED:API_TOKEN]');
    noValues(r.stdout, r.stderr);
  });

  it('does not overwrite an existing binding without --force, and does with it', async () => {
    const bound = cfg();
    const r = await e.cli(['secrets', 'import', '.env', '--service', 'api']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('API_TOKEN is already bound to local:acme/api/api_token');
    expect(r.stderr).toContain('[binding_exists]');
    expect(r.stdout).toBe('');
    noValues(r.stderr);
    expect(cfg()).toBe(bound);

    const newToken = plantedSecret('rotated');
    await api.close();
    api = await startApi([newToken]);
    e.writeRecipe('api', curlRecipe('api', api.port, 'API_TOKEN'));
    const rotated = join(e.projects.acme!, 'rotated.env');
    writeFileSync(rotated, `API_TOKEN=${newToken}\n`);
    const f = await e.cli(['secrets', 'import', 'rotated.env', '--service', 'api', '--force']);
    expect(f.status).toBe(0);
    expect(f.stdout).toContain('(was local:acme/api/api_token)');
    expect(f.stdout).not.toContain(newToken);
    expect(cfg()).toBe(bound);
    const x = await e.cli(['exec', 'api.list']);
    expect(x.status).toBe(0);
    expect(api.seen.at(-1)!.authorization).toBe(`Bearer ${newToken}`);
  });

  it('binds for --tenant from outside every project, creating the grant with allow: []', async () => {
    const globexEnv = join(e.root, 'globex.env');
    writeFileSync(globexEnv, `GLOBEX_TOKEN=${extra}\n`);
    const r = await e.cli(['secrets', 'import', globexEnv, '--service', 'github', '--tenant', 'globex'], { cwd: e.root });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Created the grant tenants.globex.services.github with allow: []');
    noValues(r.stdout, r.stderr);
    expect(cfg()).toContain('    services: { github: { secrets: { GLOBEX_TOKEN: local:globex/github/globex_token }, allow: [] } }\n');
    expect(cfg()).toContain('# Outloop config for the team.   (comments must survive an import)');
  });

  it('no tenant here and no --tenant is a usage error that changes nothing', async () => {
    const before = cfg();
    const r = await e.cli(['secrets', 'import', envFile, '--service', 'api'], { cwd: e.root });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('[no_tenant]');
    expect(cfg()).toBe(before);
  });

  it('--service is required and --to takes only writable backends', async () => {
    expect((await e.cli(['secrets', 'import', '.env'])).status).toBe(64);
    const r = await e.cli(['secrets', 'import', '.env', '--service', 'api', '--to', 'vault']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--to');
  });
});
