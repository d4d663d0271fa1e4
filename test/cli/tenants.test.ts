import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * Adding a second client from the command line: `tenant add|bind|list`, `grant`, `revoke`, and `init
 * --tenant` once config.yaml exists. Each edits config.yaml keeping the person's comments and layout,
 * refuses (changing nothing) what would be wrong, and the result is what a request then runs against.
 */
describe('tenant, grant and revoke', () => {
  const e: E2E = makeE2E(['acme', 'globex', 'initech']);
  const cfgPath = join(e.home, 'config.yaml');
  const cfg = () => readFileSync(cfgPath, 'utf8');
  const base = () => `# The team's outloop config   (comments must survive)
storeKey: file

tenants:
  acme:
    projects: [${JSON.stringify(e.projects.acme)}]   # the web app
    services:
      github:
        secrets: { GITHUB_TOKEN: local:acme/github }
        allow: [list-issues]      # read only
`;
  beforeEach(() => writeFileSync(cfgPath, base()));
  afterAll(() => e.cleanup());

  it('tenant add splices the new tenant in, keeping every other byte; the folder then belongs to it', async () => {
    const r = await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Added tenant "globex"`);
    expect(cfg()).toBe(`${base()}  globex:\n    projects: [${JSON.stringify(e.projects.globex)}]\n`);
    const list = await e.cli(['tenant', 'list', '--json'], { cwd: e.projects.globex });
    const j = JSON.parse(list.stdout) as { current: string; tenants: { name: string; projects: { path: string }[] }[] };
    expect(j.current).toBe('globex');
    expect(j.tenants.map((t) => t.name)).toEqual(['acme', 'globex']);
    expect(j.tenants[1]!.projects[0]!.path).toBe(e.projects.globex);
    const text = await e.cli(['tenant', 'list'], { cwd: e.projects.globex });
    expect(text.stdout).toMatch(/^\* globex$/m);
    expect(text.stdout).toMatch(/grant {4}github: list-issues/);
  });

  it('tenant add refuses an existing tenant, a folder of another tenant and a missing folder, changing nothing', async () => {
    const cases: [string[], string][] = [
      [['tenant', 'add', 'acme', '--project', e.projects.globex!], 'tenant_exists'],
      [['tenant', 'add', 'globex', '--project', e.projects.acme!], 'already_bound'],
      [['tenant', 'add', 'globex', '--project', join(e.root, 'nope')], 'bad_project'],
      [['tenant', 'add', 'Bad Name', '--project', e.projects.globex!], 'bad_name'],
    ];
    for (const [args, code] of cases) {
      const r = await e.cli(args);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toContain(`[${code}]`);
      expect(r.stderr).toContain('next:');
      expect(cfg()).toBe(base());
    }
  });

  it('tenant bind appends a folder to the flow list; a symlink to another tenant\'s folder is refused', async () => {
    const extra = join(e.root, 'clients', 'acme-api');
    mkdirSync(extra, { recursive: true });
    const r = await e.cli(['tenant', 'bind', 'acme', extra]);
    expect(r.status).toBe(0);
    expect(cfg()).toBe(base().replace(`[${JSON.stringify(e.projects.acme)}]`, `[${JSON.stringify(e.projects.acme)}, ${JSON.stringify(extra)}]`));
    const again = await e.cli(['tenant', 'bind', 'acme', extra]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already bound');

    await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    const before = cfg();
    const link = join(e.root, 'link-to-acme');
    if (!existsSync(link)) symlinkSync(e.projects.acme!, link);
    const bad = await e.cli(['tenant', 'bind', 'globex', link]);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('[already_bound]');
    expect(cfg()).toBe(before);
    const typo = await e.cli(['tenant', 'bind', 'glbex', e.projects.initech!]);
    expect(typo.status).toBe(64);
    expect(typo.stderr).toContain('did you mean "globex"?');
  });

  it('tenant user binds an OS user (name or uid) to one tenant; an unknown name or a second tenant is refused, changing nothing', async () => {
    const r = await e.cli(['tenant', 'user', 'acme', 'root']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Bound OS user root to tenant "acme"');
    expect(cfg()).toBe(`${base()}    users: [root]\n`);
    expect((await e.cli(['tenant', 'user', 'acme', '4242'])).status).toBe(0);
    expect(cfg()).toContain('users: [root, 4242]');
    expect((await e.cli(['tenant', 'user', 'acme', 'root'])).stdout).toContain('already bound');
    const list = JSON.parse((await e.cli(['tenant', 'list', '--json'])).stdout) as { tenants: { name: string; users: unknown[] }[] };
    expect(list.tenants.find((t) => t.name === 'acme')?.users).toEqual(['root', 4242]);

    await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    const before = cfg();
    const twice = await e.cli(['tenant', 'user', 'globex', '4242']);
    expect(twice.status).toBe(64);
    expect(twice.stderr).toContain('[already_bound]');
    const typo = await e.cli(['tenant', 'user', 'globex', 'no-such-user-3f9c']);
    expect(typo.status).toBe(64);
    expect(typo.stderr).toContain('there is no OS user "no-such-user-3f9c"');
    expect(cfg()).toBe(before);
  });

  it('grant adds recipes and secret bindings; the request is then allowed; typos get "did you mean"', async () => {
    await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    const denied = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r'], { cwd: e.projects.globex });
    expect(denied.status).toBe(77);

    for (const [args, code, hint] of [
      [['grant', 'globex', 'gihub'], 'unknown_service', 'did you mean "github"?'],
      [['grant', 'globex', 'github', 'list-isues'], 'unknown_recipe', 'did you mean "list-issues"?'],
      [['grant', 'globx', 'github'], 'unknown_tenant', 'did you mean "globex"?'],
      [['grant', 'globex', 'github', '--until', 'tomorrow'], 'bad_until', 'duration'],
      [['grant', 'globex', 'github', '--secret', 'GITHUB_TOKEN=plain-value'], 'bad_ref', ''],
    ] as const) {
      const before = cfg();
      const r = await e.cli([...args]);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toContain(`[${code}]`);
      expect(r.stderr).toContain(hint);
      expect(cfg()).toBe(before);
    }

    const g = await e.cli(['grant', 'globex', 'github', 'list-issues', 'get-issue', '--secret', 'GITHUB_TOKEN=local:globex/github']);
    expect(g.stderr).toBe('');
    expect(g.status).toBe(0);
    expect(g.stdout).toContain('Granted github to tenant "globex": list-issues, get-issue.');
    expect(cfg()).toBe(`${base()}  globex:\n    projects: [${JSON.stringify(e.projects.globex)}]\n    services:\n      github:\n        secrets:\n          GITHUB_TOKEN: local:globex/github\n        allow: [list-issues, get-issue]\n`);
    const ok = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r'], { cwd: e.projects.globex });
    expect(ok.stdout).toContain('pass  tenant     globex');
    expect(ok.status).toBe(0);

    // Widening an existing grant, and a temporary recipe.
    const more = await e.cli(['grant', 'acme', 'github', 'get-issue', '--until', '2h']);
    expect(more.status).toBe(0);
    expect(cfg()).toMatch(/allow: \[list-issues, \{ recipe: get-issue, until: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" \}\]      # read only\n/);
    const same = await e.cli(['grant', 'acme', 'github', 'list-issues']);
    expect(same.stdout).toContain('nothing changed');
    const run = await e.cli(['grant', 'globex', 'github', 'list-issues', '--run']);
    expect(run.status).toBe(0);
    expect(cfg()).toContain('        allow: [list-issues, get-issue]\n        run: true\n');
  });

  it('grant says which secrets a new grant still needs, with the commands to bind and store them', async () => {
    await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    const g = await e.cli(['grant', 'globex', 'github']);
    expect(g.status).toBe(0);
    expect(g.stdout).toContain('every recipe ("*")');
    expect(g.stdout).toContain('outloop grant globex github --secret GITHUB_TOKEN=local:globex/github');
    expect(g.stdout).toContain('outloop secrets set local:globex/github');
  });

  it('revoke takes one recipe away (a deny rule under "*"), or the whole grant', async () => {
    await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    await e.cli(['grant', 'globex', 'github', '--secret', 'GITHUB_TOKEN=local:globex/github']);
    const one = await e.cli(['revoke', 'globex', 'github', 'list-issues']);
    expect(one.status).toBe(0);
    const c = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r', '--json'], { cwd: e.projects.globex });
    expect(c.status).toBe(77);
    expect(JSON.parse(c.stdout).code).toBe('recipe_denied');
    const other = await e.cli(['check', 'github.get-issue', '-p', 'owner=o', '-p', 'repo=r', '-p', 'number=1'], { cwd: e.projects.globex });
    expect(other.status).toBe(0);
    // Granting it again lifts the deny rule.
    await e.cli(['grant', 'globex', 'github', 'list-issues']);
    expect((await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r'], { cwd: e.projects.globex })).status).toBe(0);

    const fromList = await e.cli(['revoke', 'acme', 'github', 'list-issues']);
    expect(fromList.status).toBe(0);
    expect(cfg()).toContain('allow: []      # read only');

    const typo = await e.cli(['revoke', 'globex', 'githb']);
    expect(typo.status).toBe(64);
    expect(typo.stderr).toContain('did you mean "github"?');
    const all = await e.cli(['revoke', 'globex', 'github']);
    expect(all.status).toBe(0);
    expect(all.stdout).toContain('local:globex/github');
    expect(cfg()).toBe(`${base().replace('allow: [list-issues]', 'allow: []')}  globex:\n    projects: [${JSON.stringify(e.projects.globex)}]\n    services: {}\n`);
  });

  it('an invalid config.yaml is never edited: exit 78, pointed at `outloop config check`', async () => {
    writeFileSync(cfgPath, `${base()}    maxRisc: read\n`);
    const before = cfg();
    const r = await e.cli(['tenant', 'add', 'globex', '--project', e.projects.globex!]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('outloop config check');
    expect(cfg()).toBe(before);
  });

  it('init --tenant with a config adds that client for this folder; with --agent it sets up that tenant', async () => {
    const r = await e.cli(['init', '--tenant', 'initech', '--agent', 'claude-code'], { cwd: e.projects.initech });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Added tenant "initech"');
    expect(existsSync(join(e.projects.initech!, '.mcp.json'))).toBe(true);
    const l = await e.cli(['recipes', 'list', '--json'], { cwd: e.projects.initech });
    expect(JSON.parse(l.stdout).tenant).toBe('initech');
    const again = await e.cli(['init', '--tenant', 'initech'], { cwd: e.projects.initech });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already belongs to tenant "initech"');
    const wrong = await e.cli(['init', '--tenant', 'globex', '--agent', 'cursor'], { cwd: e.projects.acme });
    expect(wrong.status).toBe(64);
    expect(wrong.stderr).toContain('[wrong_tenant]');
    expect(existsSync(join(e.projects.acme!, '.cursor'))).toBe(false);
  });

  it('exec of a mistyped service is unknown_service (exit 64) with "did you mean", not a missing grant (77)', async () => {
    const r = await e.cli(['exec', 'gihub.list-issues', '--json']);
    expect(r.status).toBe(64);
    const j = JSON.parse(r.stdout) as { code: string; reason: string; next: string };
    expect(j.code).toBe('unknown_service');
    expect(j.reason).toContain('did you mean "github"?');
    expect(j.next).not.toContain('grant');
    const p = await e.cli(['exec', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r', '-p', 'stat=open', '--json']);
    expect(p.status).toBe(65);
    expect(JSON.parse(p.stdout).reason).toContain('did you mean "state"?');
    const show = await e.cli(['recipes', 'show', 'strpe']);
    expect(show.status).toBe(64);
    expect(show.stderr).toContain('did you mean "stripe"?');
  });

  it('secrets import for an unknown tenant points at `outloop tenant add`', async () => {
    writeFileSync(join(e.projects.acme!, '.env'), 'A_TOKEN=x\n');
    const r = await e.cli(['secrets', 'import', '.env', '--service', 'github', '--tenant', 'globex']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('outloop tenant add globex --project DIR');
  });
});
