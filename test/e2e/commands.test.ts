import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../helpers/cli.js';
import { configYaml, type E2E, filesContaining, makeE2E, plantedSecret } from './helpers.js';

const RECIPES = `service: cmd
description: command tests
hosts: [api.example.com]
secrets: [TOKEN]
recipes:
  read:
    description: read something
    risk: read
    params:
      id: { type: string, pattern: "^[a-z0-9]{1,8}$" }
    run: [curl, -sS, -K, -, "https://api.example.com/v1/things/{{params.id}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
  write:
    description: change something
    risk: write
    run: [sh, -c, 'echo "$T"']
    env: { T: "{{secrets.TOKEN}}" }
`;

describe('secrets', () => {
  let e: E2E;
  const value = plantedSecret('argv');
  beforeAll(() => {
    e = makeE2E(['acme']);
    e.writeRecipe('cmd', RECIPES);
    e.writeConfig(configYaml(e, { acme: 'cmd:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [write]' }));
  });
  afterAll(() => e?.cleanup());

  it('`secrets set REF VALUE` refuses a value on argv (64) and never echoes it', async () => {
    const r = await e.cli(['secrets', 'set', 'local:acme/token', value]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('never taken from the command line');
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(existsSync(join(e.home, 'store.json'))).toBe(false);
    const list = await e.cli(['secrets', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([{ ref: 'local:acme/token', stored: false, usedBy: ['acme/cmd.TOKEN'] }]);
    expect(filesContaining(e.root, value)).toEqual([]);
  });

  it('`secrets set` reads stdin; list shows the reference and never a value; exec uses it', async () => {
    const set = await e.cli(['secrets', 'set', 'local:acme/token'], { input: value });
    expect(set.status).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(value);
    const set2 = await e.cli(['secrets', 'set', 'local:acme/spare'], { input: `${value}-spare` });
    expect(set2.status).toBe(0);

    const list = await e.cli(['secrets', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^local:acme\/spare\s+stored\s+\(not used by any grant\)$/m);
    expect(list.stdout).toMatch(/^local:acme\/token\s+stored\s+acme\/cmd\.TOKEN$/m);
    const json = await e.cli(['secrets', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      { ref: 'local:acme/spare', stored: true, usedBy: [] },
      { ref: 'local:acme/token', stored: true, usedBy: ['acme/cmd.TOKEN'] },
    ]);
    for (const r of [list, json]) expect(r.stdout + r.stderr).not.toContain(value.slice(0, 20));

    const run = await e.cli(['exec', 'cmd.write', '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ exitCode: 0, stdout: '[REDACTED:TOKEN]\n', redactions: 1 });
    // The store holds it encrypted.
    expect(filesContaining(e.root, value)).toEqual([]);
  });

  it('`secrets rm` removes a value; removing it again is an error', async () => {
    const rm = await e.cli(['secrets', 'rm', 'local:acme/spare']);
    expect(rm.status).toBe(0);
    const json = await e.cli(['secrets', 'list', '--json']);
    expect((JSON.parse(json.stdout) as { ref: string }[]).map((r) => r.ref)).toEqual(['local:acme/token']);
    const again = await e.cli(['secrets', 'rm', 'local:acme/spare']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('local:acme/spare');
    // The other value is untouched.
    const run = await e.cli(['exec', 'cmd.write']);
    expect(run.stdout).toBe('[REDACTED:TOKEN]\n');
    await e.cli(['secrets', 'rm', 'local:acme/token']);
    const gone = await e.cli(['exec', 'cmd.write']);
    expect(gone.status).toBe(69);
  });
});

describe('secrets set: what is stored', () => {
  let e: E2E;
  beforeAll(() => {
    e = makeE2E(['acme']);
    e.writeRecipe('len', `service: len
secrets: [TOKEN]
recipes:
  show:
    description: the value's length and the value
    run: [sh, -c, 'printf "%s <%s>" "\${#T}" "$T"']
    env: { T: "{{secrets.TOKEN}}" }
`);
    e.writeConfig(configYaml(e, { acme: 'len:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]' }));
  });
  afterAll(() => e?.cleanup());

  it('`echo VALUE |` stores VALUE: exactly one trailing newline is dropped', async () => {
    const value = plantedSecret('nl');
    expect((await e.cli(['secrets', 'set', 'local:acme/token'], { input: `${value}\n` })).status).toBe(0);
    const r = await e.cli(['exec', 'len.show']);
    expect(r.stdout).toBe(`${value.length} <[REDACTED:TOKEN]>`);
  });

  it('a value with inner spaces and a trailing space is kept byte for byte', async () => {
    const value = ` ${plantedSecret('sp')} x `;
    expect((await e.cli(['secrets', 'set', 'local:acme/token'], { input: value })).status).toBe(0);
    const r = await e.cli(['exec', 'len.show']);
    expect(r.stdout).toBe(`${value.length} <[REDACTED:TOKEN]>`);
  });

  it('empty stdin stores nothing (64) and keeps the old value', async () => {
    const before = readFileSync(join(e.home, 'store.json'), 'utf8');
    const r = await e.cli(['secrets', 'set', 'local:acme/token'], { input: '' });
    expect(r.status).toBe(64);
    expect(readFileSync(join(e.home, 'store.json'), 'utf8')).toBe(before);
  });

  it('a read-only backend (env:) refuses to store', async () => {
    const r = await e.cli(['secrets', 'set', 'env:SOME_VAR'], { input: 'x-value-123' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('read-only');
    expect(r.stderr).not.toContain('x-value-123');
  });
});

describe('check, dry-run, recipes', () => {
  let e: E2E;
  beforeAll(() => {
    e = makeE2E(['acme', 'globex']);
    e.writeRecipe('cmd', RECIPES);
    e.writeConfig(
      configYaml(e, {
        acme: 'cmd:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: [read]',
        globex: 'cmd:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]',
      }),
    );
  });
  afterAll(() => e?.cleanup());

  it('check prints every gate and exits 0 when allowed', async () => {
    const r = await e.cli(['check', 'cmd.read', '-p', 'id=abc']);
    expect(r.status).toBe(0);
    for (const gate of ['tenant', 'assertion', 'service', 'recipe', 'secrets', 'params', 'hosts']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+pass\\s+${gate}\\s`, 'm'));
    }
    expect(r.stdout).toContain('allowed: tenant acme would run:');
    expect(r.stdout).toContain('header = "Authorization: Bearer [SECRET:TOKEN]"');
  });

  it('check exits 77 when denied, with the failing gate and the rest skipped', async () => {
    const r = await e.cli(['check', 'cmd.write']);
    expect(r.status).toBe(77);
    expect(r.stdout).toMatch(/^\s+pass\s+service\s/m);
    expect(r.stdout).toMatch(/^\s+fail\s+recipe\s/m);
    for (const gate of ['risk', 'secrets', 'params', 'hosts', 'approval', 'budget']) expect(r.stdout).toMatch(new RegExp(`^\\s+skip\\s+${gate}\\s`, 'm'));
    expect(r.stdout).toContain('[recipe_not_allowed]');
    const j = await e.cli(['check', 'cmd.write', '--json']);
    expect(j.status).toBe(77);
    const env = JSON.parse(j.stdout) as { ok: boolean; gates: { name: string; status: string }[] };
    expect(env.ok).toBe(false);
    expect(env.gates.map((g) => g.name)).toEqual(['tenant', 'assertion', 'service', 'recipe', 'risk', 'secrets', 'params', 'hosts', 'approval', 'budget']);
  });

  it('check of a bad parameter: the params gate fails and names the parameter', async () => {
    const r = await e.cli(['check', 'cmd.read', '-p', 'id=../../etc']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/^\s+fail\s+params\s.*"id"/m);
    expect(r.stdout).toMatch(/^\s+skip\s+hosts\s/m);
  });

  // Regression (was a bug): `outloop check` exits with exec's deny codes instead of the contract's 0/77 (CONTRACT.md: "`outloop
  // check` exits 0 when the request would be allowed and 77 when it would be denied"; README's command
  // table says the same). A bad parameter gives 65, an unknown recipe or service 64, an unbound secret 78,
  // because handleRequest uses denyExitCode(decision.code) for mode 'check' too. Fix: in
  // src/broker/exec.ts return `exitCode: Exit.denied` for mode === 'check' denials (keep denyExitCode for exec).
  it('check exits 77 for every denial, whatever the gate (bad param, unknown recipe)', async () => {
    const bad = await e.cli(['check', 'cmd.read', '-p', 'id=../../etc']);
    expect(bad.stdout).toContain('denied:');
    expect(bad.status).toBe(77);
    const unknown = await e.cli(['check', 'cmd.nope']);
    expect(unknown.stdout).toContain('denied:');
    expect(unknown.status).toBe(77);
  });

  it('--dry-run shows the command with [SECRET:NAME] and runs nothing', async () => {
    const r = await e.cli(['exec', 'cmd.read', '-p', 'id=x1', '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('https://api.example.com/v1/things/x1');
    expect(r.stdout).toContain('Authorization: Bearer [SECRET:TOKEN]');
    const j = await e.cli(['exec', 'cmd.read', '-p', 'id=x1', '--dry-run', '--json']);
    const env = JSON.parse(j.stdout) as { dryRun: boolean; command: { argv: string[]; stdin: string } };
    expect(env.dryRun).toBe(true);
    expect(env.command.argv.at(-1)).toBe('https://api.example.com/v1/things/x1');
    expect(env.command.stdin).toContain('[SECRET:TOKEN]');
    const recs = e.audit();
    expect(recs.at(-1)).toMatchObject({ dryRun: true, decision: 'allow', phase: 'end' });
    expect(recs.filter((x) => x.phase === 'start')).toEqual([]);
  });

  it('recipes list --json marks what the tenant of this folder may run', async () => {
    const a = await e.cli(['recipes', 'list', '--json'], { cwd: e.projects.acme });
    expect(a.status).toBe(0);
    const acme = JSON.parse(a.stdout) as { tenant: string; recipes: { name: string; granted: boolean }[] };
    expect(acme.tenant).toBe('acme');
    const mine = Object.fromEntries(acme.recipes.filter((r) => r.name.startsWith('cmd.')).map((r) => [r.name, r.granted]));
    expect(mine).toEqual({ 'cmd.read': true, 'cmd.write': false });
    const g = JSON.parse((await e.cli(['recipes', 'list', '--json'], { cwd: e.projects.globex })).stdout) as typeof acme;
    expect(Object.fromEntries(g.recipes.filter((r) => r.name.startsWith('cmd.')).map((r) => [r.name, r.granted]))).toEqual({ 'cmd.read': true, 'cmd.write': true });
    const none = JSON.parse((await e.cli(['recipes', 'list', '--json'], { cwd: e.root })).stdout) as { tenant: null; recipes: { granted: boolean }[] };
    expect(none.tenant).toBeNull();
    expect(none.recipes.some((r) => r.granted)).toBe(false);
    const text = await e.cli(['recipes', 'list'], { cwd: e.projects.acme });
    expect(text.stdout).toMatch(/^granted\s+cmd\.read\s/m);
    expect(text.stdout).toMatch(/^-\s+cmd\.write\s/m);
  });

  it('recipes lint: clean files exit 0; errors print file:line:col and exit 78', async () => {
    const good = join(e.home, 'recipes', 'cmd.yaml');
    const ok = await e.cli(['recipes', 'lint', good]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('0 errors');

    const dir = join(e.root, 'lintme');
    mkdirSync(dir, { recursive: true });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `service: bad
secrets: [TOKEN]
recipes:
  one:
    description: unknown placeholder and undeclared param
    run: [echo, "{{params.nope}}", "{{tenantt}}"]
  two:
    description: wrong type
    risk: extreme
    run: [echo, hi]
`,
    );
    const r = await e.cli(['recipes', 'lint', bad]);
    expect(r.status).toBe(78);
    const errors = r.stdout.split('\n').filter((l) => l.includes(': error: '));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const l of errors) expect(l).toMatch(new RegExp(`^${bad.replaceAll('.', '\\.')}:\\d+:\\d+: error: `));
    // The problem points at its own line and column: `risk: extreme` is line 9, its value at column 11.
    expect(r.stdout).toContain(`${bad}:9:11: error: recipes.two.risk`);
    const j = await e.cli(['recipes', 'lint', '--json', bad]);
    expect(j.status).toBe(78);
    const env = JSON.parse(j.stdout) as { ok: boolean; problems: { line: number; col: number }[] };
    expect(env.ok).toBe(false);
    for (const p of env.problems) expect(p.line).toBeGreaterThan(0);
  });

  it('recipes lint finds placeholder and parameter errors with their positions', async () => {
    const dir = join(e.root, 'lintme2');
    mkdirSync(dir, { recursive: true });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `service: bad
recipes:
  one:
    description: unknown placeholder and undeclared param
    run: [echo, "{{params.nope}}", "{{tenantt}}"]
`,
    );
    const r = await e.cli(['recipes', 'lint', bad]);
    expect(r.status).toBe(78);
    expect(r.stdout).toMatch(new RegExp(`${bad.replaceAll('.', '\\.')}:5:17: error: .*nope`));
    expect(r.stdout).toMatch(new RegExp(`${bad.replaceAll('.', '\\.')}:5:36: error: .*tenantt`));
  });
});

describe('demo, init, schema', () => {
  let e: E2E;
  beforeAll(() => {
    e = makeE2E(['acme']);
  });
  afterAll(() => e?.cleanup());

  it('`outloop demo` exits 0, shows [REDACTED:DEMO_TOKEN], never the token, leaves nothing behind', async () => {
    const r = await e.cli(['demo'], { cwd: e.root });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"authorization":"Bearer [REDACTED:DEMO_TOKEN]"');
    expect(r.stdout).toMatch(/-> exit 0, 1 redaction/);
    expect(r.stdout).toContain('[wrong_tenant]');
    expect(r.stdout).toContain('hash chain intact');
    // The token is demo_ + 24 base64url characters; it must not appear, nor a Bearer with anything else.
    expect(r.stdout).not.toMatch(/demo_[A-Za-z0-9_-]{16,}/);
    expect(r.stdout).not.toMatch(/Bearer (?!\[REDACTED:DEMO_TOKEN\])/);
    expect(readdirSync(e.tmp)).toEqual([]);
  });

  it('`outloop init --tenant x` writes a config that validates and grants its example', async () => {
    const project = join(e.root, 'work', 'x-project');
    mkdirSync(project, { recursive: true });
    const home = join(e.root, 'fresh-home');
    const env = { OUTLOOP_HOME: home };
    const r = await e.cli(['init', '--tenant', 'x'], { cwd: project, env });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tenant "x"');
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toContain(project);
    const c = await e.cli(['check', 'example.get-status', '-p', 'job=nightly'], { cwd: project, env });
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    expect(c.stdout).toContain('pass  tenant     x');
    const l = await e.cli(['recipes', 'lint'], { cwd: project, env });
    expect(l.stdout).toContain(' 0 errors');
    const before = readFileSync(join(home, 'config.yaml'), 'utf8');
    const again = await e.cli(['init', '--tenant', 'x'], { cwd: project, env });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already belongs to tenant "x"');
    const plain = await e.cli(['init'], { cwd: project, env });
    expect(plain.status).toBe(64);
    expect(plain.stderr).toContain('outloop tenant add NAME --project DIR');
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toBe(before);
    const sub = join(project, 'sub');
    mkdirSync(sub);
    const c2 = await e.cli(['check', 'example.get-status', '-p', 'job=nightly'], { cwd: sub, env });
    expect(c2.status).toBe(0);
    // Outside the project the same config denies.
    const out = await e.cli(['check', 'example.get-status', '-p', 'job=nightly'], { cwd: e.root, env });
    expect(out.status).toBe(77);
  });

  for (const which of ['recipe', 'config'] as const) {
    it(`schema/${which}.schema.json equals \`outloop schema ${which}\``, async () => {
      const r = await e.cli(['schema', which]);
      expect(r.status).toBe(0);
      const file = readFileSync(join(PACKAGE_ROOT, 'schema', `${which}.schema.json`), 'utf8');
      expect(r.stdout).toBe(file);
      expect((JSON.parse(r.stdout) as { $id: string }).$id).toContain(`${which}.schema.json`);
    });
  }

  it('`outloop schema nope` is a usage error', async () => {
    expect((await e.cli(['schema', 'nope'])).status).toBe(64);
  });

  it('--help and --version', async () => {
    const h = await e.cli(['--help']);
    expect(h.status).toBe(0);
    for (const c of ['exec', 'check', 'recipes', 'secrets', 'audit', 'init', 'demo', 'schema']) expect(h.stdout).toContain(c);
    const v = await e.cli(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
  });
});
