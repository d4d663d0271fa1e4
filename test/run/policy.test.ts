import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleRun } from '../../src/broker/run.js';
import { Exit } from '../../src/errors.js';
import { revealFinding, splitScript } from '../../src/policy/reveal.js';
import { decideRun, RUN_GATES, unsafeEnvName } from '../../src/policy/run.js';
import { countingBackends, configFrom, makeHome, useTempDirs, write } from '../core/helpers.js';

const INJECTED = new Set(['STRIPE_KEY', 'GH_TOKEN']);
const reveals = (argv: string[]) => revealFinding(argv, INJECTED);

/** Every command the brief names as one whose only use is to show values. */
const REVEAL: string[][] = [
  ['env'],
  ['/usr/bin/env'],
  ['env', '-0'],
  ['env', 'FOO=1'],
  ['env', '-i', 'A=b', 'printenv'],
  ['printenv'],
  ['printenv', 'STRIPE_KEY'],
  ['/usr/bin/printenv', 'HOME'],
  ['sh', '-c', 'env'],
  ['bash', '-c', 'set'],
  ['bash', '-c', 'export -p'],
  ['bash', '-lc', 'declare -p'],
  ['bash', '-c', 'declare -x'],
  ['bash', '-c', 'compgen -v'],
  ['sh', '-c', 'npm test; env | sort'],
  ['sh', '-ec', 'echo $STRIPE_KEY'],
  ['sh', '-c', 'echo "key: ${STRIPE_KEY}"'],
  ['sh', '-c', 'printf "%s\\n" "$GH_TOKEN"'],
  ['echo', '$STRIPE_KEY'],
  ['cat', '.env'],
  ['cat', './config/.env.production'],
  ['less', 'prod.env'],
  ['head', '-n', '3', '.env'],
  ['tail', '.env.local'],
  ['bat', '.envrc'],
  ['strings', '.env'],
  ['xxd', '.env'],
  ['od', '-c', '.env'],
  ['base64', '.env'],
  ['sh', '-c', 'cat .env'],
  ['env', 'sh', '-c', 'printenv'],
  ['nohup', 'env'],
  ['timeout', '5', 'printenv'],
  ['command', 'env'],
  ['bash', '-c', 'FOO=1 env'],
  ['sh', '-c', 'x=$(env)'],
];

const FINE: string[][] = [
  ['./deploy.sh', '--prod'],
  ['npm', 'run', 'sync'],
  ['python', 'export.py'],
  ['env', 'NODE_ENV=production', 'node', 'app.js'],
  ['env', '-i', 'PATH=/bin', './deploy.sh'],
  ['sh', '-c', './deploy.sh && echo done'],
  ['bash', '-c', 'set -euo pipefail; ./build.sh'],
  ['bash', '-c', 'export FOO=1; ./run.sh'],
  ['echo', 'hello'],
  ['sh', '-c', 'echo $HOME'],
  ['echo', '$OTHER'],
  ['cat', 'README.md'],
  ['cat', '.env.example'],
  ['bash', 'script-that-might-print-env.sh'],
  // Out of scope (documented): interpreters asked to print their environment. Their output is redacted.
  ['node', '-e', 'console.log(process.env)'],
];

describe('reveal commands', () => {
  it.each(REVEAL.map((a) => [a.join(' '), a]))('refuses %s', (_, argv) => {
    expect(reveals(argv as string[])).toBeDefined();
  });
  it.each(FINE.map((a) => [a.join(' '), a]))('lets %s run', (_, argv) => {
    expect(reveals(argv as string[])).toBeUndefined();
  });
  it('splits scripts into simple commands, quotes removed', () => {
    expect(splitScript(`a 'b c' "d"; e && f | g\nh`)).toEqual([['a', 'b c', 'd'], ['e'], ['f'], ['g'], ['h']]);
  });
});

describe('names outloop run never injects', () => {
  it.each(['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'NODE_OPTIONS', 'NODE_PATH', 'BASH_ENV', 'ENV', 'PROMPT_COMMAND', 'PYTHONSTARTUP', 'PYTHONPATH', 'PERL5OPT', 'PERL5LIB', 'RUBYOPT', 'GIT_SSH_COMMAND', 'DYLD_INSERT_LIBRARIES', 'BASH_FUNC_x%%', 'PATH'])('%s', (n) => {
    expect(unsafeEnvName(n)).toBeDefined();
  });
  it.each(['STRIPE_KEY', 'GITHUB_TOKEN', 'DATABASE_URL', 'ENVIRONMENT'])('not %s', (n) => expect(unsafeEnvName(n)).toBeUndefined());
});

const CONFIG = `
tenants:
  acme:
    projects: [/p/acme]
    services:
      stripe: { secrets: { STRIPE_KEY: "local:{{tenant}}/stripe" }, run: true }
      github: { secrets: { GH_TOKEN: "local:acme/gh" }, run: true }
      norun:  { secrets: { X_KEY: "local:acme/x" } }
      evil:   { secrets: { LD_PRELOAD: "local:acme/lib" }, run: true }
      twin:   { secrets: { STRIPE_KEY: "local:acme/other" }, run: true }
      old:    { secrets: {}, run: true, until: 2020-01-01T00:00:00Z }
  globex:
    projects: [/p/globex]
    services:
      stripe: { secrets: { STRIPE_KEY: "local:globex/stripe" }, run: true }
`;

describe('decideRun', () => {
  const tenants = configFrom(CONFIG).tenants;
  const ctx = (tenant: string | null) => ({ binding: tenant ? { tenant, project: `/p/${tenant}` } : null, tenants, configFile: '/c/config.yaml' });
  const run = (services: string[], argv: string[] = ['./deploy.sh'], extra: object = {}, tenant: string | null = 'acme') =>
    decideRun({ services, argv, cwd: '/p/acme', ...extra }, ctx(tenant));
  const denied = (d: ReturnType<typeof run>) => (d.allow ? 'allow' : d.code);

  it('allows granted services with run: true, injecting their secrets under their names', () => {
    const d = run(['stripe', 'github']);
    expect(d.allow).toBe(true);
    if (!d.allow) return;
    expect(d.plan.secretRefs).toEqual({ STRIPE_KEY: 'local:{{tenant}}/stripe', GH_TOKEN: 'local:acme/gh' });
    expect(d.gates.map((g) => [g.name, g.status])).toEqual(RUN_GATES.map((g) => [g, 'pass']));
  });
  it('denies each way, with gates after the failing one skipped', () => {
    expect(denied(run(['stripe'], undefined, {}, null))).toBe('no_tenant');
    expect(denied(run(['stripe'], undefined, { assertedTenant: 'globex' }))).toBe('wrong_tenant');
    expect(denied(run(['nope']))).toBe('service_not_granted');
    expect(denied(run(['old']))).toBe('grant_expired');
    expect(denied(run(['stripe', 'norun']))).toBe('run_not_allowed');
    expect(denied(run(['evil']))).toBe('unsafe_env_name');
    expect(denied(run(['stripe', 'twin']))).toBe('env_name_conflict');
    expect(denied(run(['stripe'], ['printenv']))).toBe('reveal_command');
    const d = run(['stripe', 'norun']);
    expect(d.gates.map((g) => g.status)).toEqual(['pass', 'pass', 'pass', 'fail', 'skip', 'skip']);
    if (!d.allow) expect(d.next).toMatch(/run: true/);
  });
  it('accepts --env-file references the named grants bind ({{tenant}} expanded), refuses any other', () => {
    const ok = run(['stripe'], undefined, { envFileRefs: [{ name: 'STRIPE_API_KEY', ref: 'local:acme/stripe', at: '.env:1' }] });
    expect(ok.allow && ok.plan.secretRefs.STRIPE_API_KEY).toBe('local:acme/stripe');
    // Another tenant's reference, through acme's grant: the copied-skill case.
    expect(denied(run(['stripe'], undefined, { envFileRefs: [{ name: 'K', ref: 'local:globex/stripe', at: '.env:1' }] }))).toBe('env_ref_not_granted');
    // Bound to acme, but in a grant not named with --service.
    expect(denied(run(['stripe'], undefined, { envFileRefs: [{ name: 'K', ref: 'local:acme/gh', at: '.env:2' }] }))).toBe('env_ref_not_granted');
    expect(denied(run(['stripe'], undefined, { envFileRefs: [{ name: 'NODE_OPTIONS', ref: 'local:acme/stripe', at: '.env:3' }] }))).toBe('unsafe_env_name');
    expect(denied(run(['stripe'], undefined, { envFilePlain: [{ name: 'LD_PRELOAD', at: '.env:4' }] }))).toBe('unsafe_env_name');
  });
  it('refuses echo of an injected name only', () => {
    expect(denied(run(['stripe'], ['sh', '-c', 'echo $STRIPE_KEY']))).toBe('reveal_command');
    expect(denied(run(['stripe'], ['sh', '-c', 'echo $GH_TOKEN']))).toBe('allow');
  });
});

describe('the broker: every denial makes zero backend calls and one audit record', () => {
  const tmp = useTempDirs();
  const setup = () => {
    const root = tmp();
    const h = makeHome(root);
    const project = join(root, 'acme');
    write(join(project, '.env'), 'STRIPE_KEY=local:globex/stripe\n');
    write(join(project, 'plain.env'), 'PORT=3000\n');
    write(join(project, 'show.sh'), 'printf "%s|" "$STRIPE_KEY" "$PORT"; exit 4\n');
    h.writeConfig(CONFIG.replace('/p/acme', project));
    const counting = countingBackends({ 'local:acme/stripe': 'sk_test_value' });
    return { h, project, counting, deps: h.deps(project, counting.factory) };
  };

  it.each(REVEAL.map((a) => [a.join(' '), a]))('reveal: %s', async (_, argv) => {
    const { h, counting, deps } = setup();
    const out = await handleRun({ services: ['stripe', 'github'], argv: argv as string[], pty: false }, deps);
    expect(out.kind).toBe('denied');
    if (out.kind === 'denied') {
      expect(out.decision.code).toBe('reveal_command');
      expect(out.exitCode).toBe(Exit.denied);
    }
    expect(counting.state.gets).toBe(0);
    const recs = h.audit();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ mode: 'run', decision: 'deny', code: 'reveal_command', exitCode: 77, argv });
  });

  it('a refused command line never reaches the audit log or the reason with a value in it', async () => {
    const { h, deps } = setup();
    const token = 'ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6';
    const out = await handleRun({ services: ['stripe'], argv: ['env', `GH=${token}`, `--x=${token}`], pty: false }, deps);
    expect(out.kind).toBe('denied');
    if (out.kind === 'denied') {
      expect(out.decision.code).toBe('reveal_command');
      expect(out.decision.reason).toContain('GH=…');
    }
    expect(JSON.stringify(h.audit())).not.toContain(token);
    expect(JSON.stringify(out)).not.toContain(token);
  });

  it.each([
    [['norun'], undefined, 'run_not_allowed', 77],
    [['evil'], undefined, 'unsafe_env_name', 78],
    [['stripe'], '.env', 'env_ref_not_granted', 77],
    [['nope'], undefined, 'service_not_granted', 77],
  ] as const)('%j %s -> %s', async (services, envFile, code, exit) => {
    const { h, counting, deps } = setup();
    const out = await handleRun({ services: [...services], argv: ['true'], envFile, pty: false }, deps);
    expect(out.kind === 'denied' && [out.decision.code, out.exitCode]).toEqual([code, exit]);
    expect(counting.state.gets).toBe(0);
    expect(h.audit()[0]).toMatchObject({ mode: 'run', decision: 'deny', code });
  });

  it('a wrong tenant assertion is denied before anything is read', async () => {
    const { counting, deps } = setup();
    const out = await handleRun({ services: ['stripe'], argv: ['true'], assertedTenant: 'globex', pty: false }, deps);
    expect(out.kind === 'denied' && out.decision.code).toBe('wrong_tenant');
    expect(counting.state.gets).toBe(0);
  });

  it('an allowed run reads exactly the granted references, then records argv, exit code and redactions', async () => {
    const { h, counting, deps } = setup();
    const out = await handleRun({ services: ['stripe'], argv: ['sh', 'show.sh'], envFile: 'plain.env', pty: false }, deps);
    expect(out.kind).toBe('ran');
    if (out.kind !== 'ran') return;
    expect(out.exitCode).toBe(4);
    expect(out.stdout).toBe('[REDACTED:STRIPE_KEY]|3000|');
    expect(out.redactions).toBe(1);
    expect(counting.state.reads.map((r) => r.raw)).toEqual(['local:acme/stripe']);
    const [start, end] = h.audit();
    expect(start).toMatchObject({ mode: 'run', phase: 'start', decision: 'allow', service: 'stripe' });
    expect(end).toMatchObject({ mode: 'run', phase: 'end', decision: 'allow', exitCode: 4, redactions: 1, pty: false });
    expect(end!.argv).toEqual(['sh', 'show.sh']);
    expect(start!.argv).toBeUndefined();
    expect(start!.command).toBe('sh');
    expect(typeof end!.durationMs).toBe('number');
    expect(h.auditText()).not.toContain('sk_test_value');
  });

  it('a secret typed into argv is redacted in the end record', async () => {
    const { h, deps } = setup();
    const out = await handleRun({ services: ['stripe'], argv: ['true', 'sk_test_value'], pty: false }, deps);
    expect(out.kind).toBe('ran');
    expect(h.audit()[1]!.argv).toEqual(['true', '[REDACTED:STRIPE_KEY]']);
    expect(h.auditText()).not.toContain('sk_test_value');
  });

  it('a missing command is 127 before any secret is read', async () => {
    const { counting, deps } = setup();
    await expect(handleRun({ services: ['stripe'], argv: ['no-such-command-xyz'], pty: false }, deps)).rejects.toMatchObject({ exitCode: 127 });
    expect(counting.state.gets).toBe(0);
  });
});
