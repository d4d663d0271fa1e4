import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeE2E } from '../e2e/helpers.js';

/**
 * `outloop config check`: the command config errors point at. It must work on exactly the broken config
 * that stops every other command (the issue: the old advice, `recipes lint`, failed on the same error).
 */
describe('outloop config check', () => {
  const e = makeE2E(['acme', 'globex']);
  afterAll(() => e.cleanup());
  const good = () => `tenants:\n  acme:\n    projects: [${JSON.stringify(e.projects.acme)}]\n    services:\n      github:\n        allow: [list-issues]\n`;

  it('exit 0 on a valid config and the built-in recipes', async () => {
    e.writeConfig(good());
    const r = await e.cli(['config', 'check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/checked .*: 0 errors, 0 warnings/);
  });

  it('a broken config.yaml: the request says run `outloop config check`, which lists every problem as file:line:col (exit 78)', async () => {
    e.writeConfig(`${good()}        maxRisc: read\nstoreKy: file\n`);
    e.writeRecipe('mine', 'service: mine\nhosts: []\nrecipes:\n  a:\n    description: d\n    risk: reed\n    run: [echo]\n');
    const x = await e.cli(['exec', 'github.list-issues']);
    expect(x.status).toBe(78);
    expect(x.stderr).toContain('next: Fix the file, then run `outloop config check`');
    const lint = await e.cli(['recipes', 'lint']);
    expect(lint.status).toBe(78); // the old advice fails on the config error itself
    const r = await e.cli(['config', 'check']);
    expect(r.status).toBe(78);
    const cfg = join(e.home, 'config.yaml');
    expect(r.stdout).toContain(`${cfg}:7:9: error: unknown key "maxRisc" in tenants.acme.services.github (did you mean "maxRisk"?)`);
    expect(r.stdout).toContain(`${cfg}:8:1: error: unknown key "storeKy" (did you mean "storeKey"?)`);
    expect(r.stdout).toMatch(new RegExp(`${join(e.home, 'recipes', 'mine.yaml')}:6:\\d+: error: `));
    const j = JSON.parse((await e.cli(['config', 'check', '--json'])).stdout) as { ok: boolean; problems: unknown[] };
    expect(j.ok).toBe(false);
    expect(j.problems.length).toBe(3);
  });

  it('a folder bound to two tenants is an error; a grant naming a missing service or recipe is a warning with the closest name', async () => {
    e.writeRecipe('mine', 'service: mine\nhosts: []\nrecipes:\n  a:\n    description: d\n    risk: read\n    run: [echo]\n');
    e.writeConfig(`${good().replace('[list-issues]', '[list-isues]')}      gihub:\n        allow: ["*"]\n  globex:\n    projects: [${JSON.stringify(e.projects.acme)}]\n`);
    const r = await e.cli(['config', 'check']);
    expect(r.status).toBe(78);
    expect(r.stdout).toContain('is bound to two tenants');
    writeFileSync(join(e.home, 'config.yaml'), `${good().replace('[list-issues]', '[list-isues]')}      gihub:\n        allow: ["*"]\n`);
    const w = await e.cli(['config', 'check']);
    expect(w.status).toBe(0);
    expect(w.stdout).toContain('warning: tenants.acme.services.github.allow: service "github" has no recipe "list-isues" (did you mean "list-issues"?)');
    expect(w.stdout).toContain('warning: tenants.acme.services.gihub: no recipe file defines service "gihub" (did you mean "github"?)');
  });

  it('tenants.<name>.users: a name that is no OS user is a warning at its line (system mode would refuse every request); root and a uid are not', async () => {
    e.writeConfig(`${good()}    users: [root, 4242, no-such-user-3f9c]\n`);
    const r = await e.cli(['config', 'check']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${join(e.home, 'config.yaml')}:7:`);
    expect(r.stdout).toContain('warning: tenants.acme.users: there is no OS user "no-such-user-3f9c" on this system');
    expect(r.stdout).not.toContain('"root"');
    expect(r.stdout).toMatch(/0 errors, 1 warning\b/);
  });
});
