import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleRun } from '../../src/broker/run.js';
import { decideRun } from '../../src/policy/run.js';
import { type Api, configYaml, type E2E, makeE2E, plantedSecret, startApi } from '../e2e/helpers.js';
import { configFrom, countingBackends, makeHome, useTempDirs, write } from '../core/helpers.js';
import { requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * `outloop run` in the sandbox, which it uses only when a grant (or its tenant) says `sandbox: required`:
 * a wrapped script is the user's own and usually needs the user's files, so `auto` leaves it alone.
 */
const CONFIG = `storeKey: file
tenants:
  acme:
    projects: [/p/acme]
    services:
      boxed: { secrets: { A: "local:acme/a" }, run: true, sandbox: required }
      open: { secrets: { B: "local:acme/b" }, run: true }
      autod: { secrets: { C: "local:acme/c" }, run: true, sandbox: auto }
  strict:
    projects: [/p/strict]
    sandbox: required
    services:
      inherits: { secrets: {}, run: true }
      optout: { secrets: {}, run: true, sandbox: off }
`;

describe('decideRun: the sandbox requirement', () => {
  const tenants = configFrom(CONFIG).tenants;
  const run = (services: string[], sandboxAvailable: boolean | undefined, tenant = 'acme') =>
    decideRun({ services, argv: ['./deploy.sh'], cwd: `/p/${tenant}` }, { binding: { tenant, project: `/p/${tenant}` }, tenants, configFile: '/c/config.yaml', sandboxAvailable });
  const verdict = (d: ReturnType<typeof run>) => (d.allow ? `allow sandboxed=${d.plan.sandboxed}` : d.code);

  it('only an explicit `required` (grant or tenant) sandboxes a run; auto and unset do not', () => {
    expect(verdict(run(['open'], true))).toBe('allow sandboxed=false');
    expect(verdict(run(['autod'], true))).toBe('allow sandboxed=false');
    expect(verdict(run(['boxed'], true))).toBe('allow sandboxed=true');
    // One required service is enough: the command runs once, for all of them.
    expect(verdict(run(['open', 'boxed'], true))).toBe('allow sandboxed=true');
    expect(verdict(run(['inherits'], true, 'strict'))).toBe('allow sandboxed=true');
    // The grant's own setting wins over the tenant's.
    expect(verdict(run(['optout'], false, 'strict'))).toBe('allow sandboxed=false');
  });

  it('required with no sandbox here (or nobody looked) is denied sandbox_unavailable at the run gate, naming the setting', () => {
    for (const fact of [false, undefined]) {
      const d = run(['open', 'boxed'], fact);
      expect(verdict(d)).toBe('sandbox_unavailable');
      if (d.allow) continue;
      expect(d.reason).toBe('tenants.acme.services.boxed.sandbox requires a sandbox, and none is available on this machine');
      expect(d.next).toContain('bubblewrap');
      expect(d.gates.map((g) => `${g.name}:${g.status}`)).toEqual(['tenant:pass', 'assertion:pass', 'service:pass', 'run:fail', 'env:skip', 'command:skip']);
    }
    const t = run(['inherits'], false, 'strict');
    expect(!t.allow && t.reason).toContain('tenants.strict.sandbox requires a sandbox');
    // Not required: the missing sandbox does not matter.
    expect(verdict(run(['open'], false))).toBe('allow sandboxed=false');
  });
});

describe('the broker: sandbox_unavailable before any backend call', () => {
  const tmp = useTempDirs();
  const setup = () => {
    const root = tmp();
    const h = makeHome(root);
    const project = join(root, 'acme');
    write(join(project, 'show.sh'), 'echo "a=$A b=$B"\n');
    h.writeConfig(CONFIG.replace('/p/acme', project));
    const counting = countingBackends({ 'local:acme/a': 'value-a-7c1e9d2f4b', 'local:acme/b': 'value-b-0a8f6e3d2c' });
    return { h, counting, deps: { ...h.deps(project, counting.factory), sandboxAvailable: false } };
  };

  it('a required grant on a machine without a sandbox: denied 77, zero backend calls, one audit record', async () => {
    const { h, counting, deps } = setup();
    const out = await handleRun({ services: ['open', 'boxed'], argv: ['sh', 'show.sh'], pty: false }, deps);
    expect(out.kind === 'denied' && [out.decision.code, out.exitCode]).toEqual(['sandbox_unavailable', 77]);
    expect(counting.state.gets).toBe(0);
    expect(counting.state.reads).toEqual([]);
    expect(h.audit()).toEqual([expect.objectContaining({ mode: 'run', decision: 'deny', code: 'sandbox_unavailable', exitCode: 77 })]);
  });

  it('a project folder that contains the home folder is refused before any secret is read (it would show the whole home)', async () => {
    const root = tmp();
    const h = makeHome(root);
    // makeHome's HOME is <root>/userhome: a project bound at <root> contains it.
    h.writeConfig(CONFIG.replace('/p/acme', root));
    const counting = countingBackends({ 'local:acme/a': 'value-a-7c1e9d2f4b' });
    const err = await handleRun({ services: ['boxed'], argv: ['true'], pty: false }, { ...h.deps(root, counting.factory), sandboxAvailable: true }).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'sandbox_project_too_wide', exitCode: 78 });
    expect(counting.state.gets).toBe(0);
    expect(h.audit().at(-1)).toMatchObject({ phase: 'end', decision: 'error', code: 'sandbox_project_too_wide' });
  });

  it('without required the same machine runs the command unsandboxed, as before, and records no sandbox', async () => {
    const { h, counting, deps } = setup();
    const out = await handleRun({ services: ['open'], argv: ['sh', 'show.sh'], pty: false }, deps);
    expect(out.kind === 'ran' && [out.exitCode, out.stdout]).toEqual([0, 'a= b=[REDACTED:B]\n']);
    expect(counting.state.reads.map((r) => r.raw)).toEqual(['local:acme/b']);
    const end = h.audit().at(-1)!;
    expect(end).toMatchObject({ phase: 'end', decision: 'allow' });
    expect(end).not.toHaveProperty('sandbox');
    expect(end).not.toHaveProperty('egress');
  });
});

describe.skipIf(skipWithoutBwrap)('outloop run with sandbox: required (bubblewrap, egress proxy)', () => {
  const TOKEN = plantedSecret('runbox');
  let e: E2E;
  let api: Api;
  let other: Server;
  let otherPort: number;
  const otherHits: string[] = [];
  let project: string;
  let homeFile: string;
  let storeFile: string;
  const homeSecret = plantedSecret('home');
  const storeSecret = plantedSecret('store');

  beforeAll(async () => {
    requireBwrap();
    e = makeE2E(['acme']);
    project = e.projects.acme!;
    api = await startApi([TOKEN]);
    other = createServer((req, res) => {
      otherHits.push(req.url ?? '');
      res.end('other server reached\n');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherPort = (other.address() as { port: number }).port;

    mkdirSync(join(e.env.HOME!, '.ssh'), { recursive: true });
    homeFile = join(e.env.HOME!, '.ssh', 'id_ed25519');
    writeFileSync(homeFile, homeSecret);
    storeFile = join(e.home, 'planted.txt');
    writeFileSync(storeFile, storeSecret);
    writeFileSync(join(project, 'data.txt'), 'project-data-visible\n');
    // A script, not argv: only the sandbox and the proxy stand between it and the other port.
    writeFileSync(
      join(project, 'probe.sh'),
      [
        'code() { curl -sS -o /dev/null -w "%{http_code}" "$@" 2>/dev/null; }',
        `echo "allowed=$(curl -sS -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${api.port}/v1/x?limit=3)"`,
        `echo "other=$(code http://127.0.0.1:${otherPort}/via-proxy)"`,
        `echo "direct=$(code --noproxy '*' http://127.0.0.1:${otherPort}/direct)"`,
        'echo "project=$(cat data.txt)"',
        'echo written-inside > written.txt && echo wrote=yes',
        `for f in "${homeFile}" "${storeFile}" "${join(e.home, 'config.yaml')}"; do if cat "$f" >/dev/null 2>&1; then echo "read=$f"; else echo "hidden=$f"; fi; done`,
        'echo "token=$TOKEN"',
      ].join('\n'),
    );
    // The service's recipe file names its hosts; the recipe in it is not what runs.
    e.writeRecipe('box', `service: box\nhosts: ["127.0.0.1:${api.port}"]\nsecrets: [TOKEN]\nrecipes:\n  noop:\n    description: unused\n    risk: read\n    run: ["true"]\n`);
    e.writeConfig(
      configYaml(e, {
        acme: [
          'box:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true\n  sandbox: required',
          'open:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true',
          'nofile:\n  secrets: {}\n  run: true\n  sandbox: required',
        ].join('\n'),
      }),
    );
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(async () => {
    e?.cleanup();
    await api?.close();
    other?.close();
  });

  it('reads and writes the project folder, not the home or $OUTLOOP_HOME; reaches the service host only; audited', async () => {
    const r = await e.cli(['run', '--service', 'box', '--', 'sh', 'probe.sh']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(r.stdout).toContain('allowed={"object":"list","limit":"3","debug":{"authorization":"Bearer [REDACTED:TOKEN]"}}');
    expect(lines).toContain('other=403');
    expect(lines).toContain('direct=000');
    expect(lines).toContain('project=project-data-visible');
    expect(lines).toContain('wrote=yes');
    expect(readFileSync(join(project, 'written.txt'), 'utf8')).toBe('written-inside\n');
    expect(lines).toContain(`hidden=${homeFile}`);
    expect(lines).toContain(`hidden=${storeFile}`);
    expect(lines).toContain(`hidden=${join(e.home, 'config.yaml')}`);
    expect(lines).toContain('token=[REDACTED:TOKEN]');
    expect(otherHits).toEqual([]);
    expect(api.seen.at(-1)).toMatchObject({ url: '/v1/x?limit=3', authorization: `Bearer ${TOKEN}` });

    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ mode: 'run', phase: 'end', decision: 'allow', exitCode: 0, sandbox: 'bwrap', sandboxMode: 'required', egressEnforced: true });
    expect(end.egress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ host: '127.0.0.1', port: api.port, decision: 'allow' }),
        expect.objectContaining({ host: '127.0.0.1', port: otherPort, decision: 'deny' }),
      ]),
    );
    const all = JSON.stringify(e.audit()) + r.stdout + r.stderr;
    for (const s of [TOKEN, homeSecret, storeSecret]) expect(all).not.toContain(s);
  });

  it('the same script under a grant without required runs unsandboxed: it can read the home file and reach any port', async () => {
    const r = await e.cli(['run', '--service', 'open', '--', 'sh', 'probe.sh']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`read=${homeFile}`);
    expect(r.stdout).toContain('direct=200');
    expect(e.audit().at(-1)).not.toHaveProperty('sandbox');
  });

  it('from a subfolder: the whole project is there, read-write, and the command starts in the subfolder', async () => {
    mkdirSync(join(project, 'sub'), { recursive: true });
    const r = await e.cli(['run', '--service', 'box', '--', 'sh', '-c', 'pwd; cat ../data.txt; echo up > ../up.txt && echo wrote-up'], { cwd: join(project, 'sub') });
    expect(r.stdout).toBe(`${join(project, 'sub')}\nproject-data-visible\nwrote-up\n`);
    expect(readFileSync(join(project, 'up.txt'), 'utf8')).toBe('up\n');
    expect(e.audit().at(-1)).toMatchObject({ sandbox: 'bwrap' });
  });

  it('a service without a recipe file has no hosts: no proxy, no network at all', async () => {
    const r = await e.cli(['run', '--service', 'nofile', '--', 'sh', '-c', `echo "proxy=\${HTTP_PROXY:-none}"; curl -sS -o /dev/null -w "api=%{http_code}\\n" http://127.0.0.1:${api.port}/v1/x 2>/dev/null; cat data.txt`]);
    expect(r.stdout).toBe('proxy=none\napi=000\nproject-data-visible\n');
    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ services: ['nofile'], sandbox: 'bwrap', egressEnforced: true });
    expect(end).not.toHaveProperty('egress');
  });

  it('under a pseudo-terminal too', async () => {
    const r = await e.cli(['run', '--pty', '--service', 'box', '--', 'sh', '-c', `[ -t 1 ] && echo tty=yes; cat data.txt; cat "${homeFile}" 2>/dev/null || echo home=hidden; curl -sS -o /dev/null -w "other=%{http_code}\\n" http://127.0.0.1:${otherPort}/pty`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tty=yes');
    expect(r.stdout).toContain('project-data-visible');
    expect(r.stdout).toContain('home=hidden');
    expect(r.stdout).toContain('other=403');
    expect(r.stdout).not.toContain(homeSecret);
    expect(e.audit().at(-1)).toMatchObject({ pty: true, sandbox: 'bwrap', egressEnforced: true });
  });
});
