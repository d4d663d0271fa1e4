import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttemptError, handleRequest, type BrokerOutcome, type BrokerRequest } from '../../src/broker/exec.js';
import { countingBackends, makeHome, useTempDirs, type Home } from './helpers.js';

const tempDir = useTempDirs();

const ACME_TOKEN = 'acme-secret-7f3a9c1e-value';
const GLOBEX_TOKEN = 'globex-other-secret-b21d44';

const RECIPE = `service: demo
description: A demo service whose children are real processes
hosts: [api.example.com]
secrets: [TOKEN, OTHER]
recipes:
  echo-token:
    description: Prints the token back, which the redactor must catch
    risk: read
    run: [sh, -c, 'printf "%s" "$TOKEN"']
    env: { TOKEN: "{{secrets.TOKEN}}" }
  hash-token:
    description: Proves which value the child got without printing it
    risk: read
    run: [sh, -c, 'printf "%s " "\${#TOKEN}"; printf "%s" "$TOKEN" | sha256sum']
    env: { TOKEN: "{{secrets.TOKEN}}" }
  fetch:
    description: A URL built from a parameter
    risk: read
    params:
      host: { type: string, default: api.example.com }
      n: { type: integer, default: 1, min: 1, max: 5 }
    run: [curl, -sS, "https://{{params.host}}/v1?n={{params.n}}"]
    env: { TOKEN: "{{secrets.TOKEN}}" }
  needs-other:
    description: Uses a secret acme never bound
    risk: read
    run: [sh, -c, 'true']
    env: { O: "{{secrets.OTHER}}" }
  forbidden:
    description: Not in acme's allow list
    risk: admin
    run: [sh, -c, 'true']
    env: { TOKEN: "{{secrets.TOKEN}}" }
  missing-tool:
    description: run[0] does not exist
    risk: read
    run: [outloop-test-no-such-command-z9]
    env: { TOKEN: "{{secrets.TOKEN}}" }
`;

interface World {
  home: Home;
  acme: string;
  globex: string;
  outside: string;
}

function world(): World {
  const root = tempDir();
  const home = makeHome(root);
  const acme = join(root, 'clients', 'acme');
  const globex = join(root, 'clients', 'globex');
  const outside = join(root, 'elsewhere');
  for (const d of [join(acme, 'src'), globex, outside]) mkdirSync(d, { recursive: true });
  home.writeConfig(`tenants:
  acme:
    projects: [${acme}]
    services:
      demo:
        secrets: { TOKEN: "local:{{tenant}}/token" }
        allow: [echo-token, hash-token, fetch, needs-other, missing-tool]
      ghost:
        allow: ["*"]
  globex:
    projects: [${globex}]
    services:
      demo:
        secrets: { TOKEN: "env:GLOBEX_TOKEN" }
        allow: ["*"]
`);
  home.writeRecipe('demo', RECIPE);
  home.writeRecipe('other', RECIPE.replace(/^service: demo$/m, 'service: other'));
  return { home, acme, globex, outside };
}

const VALUES = { 'local:acme/token': ACME_TOKEN, 'env:GLOBEX_TOKEN': GLOBEX_TOKEN };

function req(over: Partial<BrokerRequest> = {}): BrokerRequest {
  return { service: 'demo', recipe: 'echo-token', params: {}, mode: 'exec', ...over };
}

describe('deny before touching: handleRequest never reaches a backend on a denial, check or dry run', () => {
  const cases: Array<{ code: string; exit: number; cwd: (w: World) => string; req: Partial<BrokerRequest> }> = [
    { code: 'no_tenant', exit: 77, cwd: (w) => w.outside, req: {} },
    { code: 'wrong_tenant', exit: 77, cwd: (w) => join(w.acme, 'src'), req: { assertedTenant: 'globex' } },
    { code: 'service_not_granted', exit: 77, cwd: (w) => w.globex, req: { service: 'other', recipe: 'echo-token' } },
    // Not granted and not existing: the typo is said first (exit 64), not a grant to ask for.
    { code: 'unknown_service', exit: 64, cwd: (w) => w.globex, req: { service: 'ghost', recipe: 'x' } },
    { code: 'unknown_service', exit: 64, cwd: (w) => w.acme, req: { service: 'ghost', recipe: 'x' } },
    { code: 'unknown_recipe', exit: 64, cwd: (w) => w.acme, req: { recipe: 'nope' } },
    { code: 'recipe_not_allowed', exit: 77, cwd: (w) => w.acme, req: { recipe: 'forbidden' } },
    { code: 'secret_not_bound', exit: 78, cwd: (w) => w.acme, req: { recipe: 'needs-other' } },
    { code: 'bad_param', exit: 65, cwd: (w) => w.acme, req: { recipe: 'fetch', params: { n: '9' } } },
    { code: 'host_not_allowed', exit: 77, cwd: (w) => w.acme, req: { recipe: 'fetch', params: { host: 'api.example.com@evil.example' } } },
  ];

  for (const c of cases) {
    for (const [mode, dryRun] of [['exec', false], ['exec', true], ['check', false]] as const) {
      it(`${c.code} (${mode}${dryRun ? ' --dry-run' : ''}): no backend call, one end record`, async () => {
        const w = world();
        const b = countingBackends(VALUES);
        const out = await handleRequest(req({ ...c.req, mode, dryRun }), w.home.deps(c.cwd(w), b.factory));
        expect(out.kind).toBe(mode === 'check' ? 'checked' : 'denied');
        // exec exits with the code's own exit; check answers allowed-or-not, 0 or 77, whatever the code.
        const exit = mode === 'check' ? 77 : c.exit;
        expect(out.exitCode).toBe(exit);
        if (out.kind !== 'denied' && out.kind !== 'checked') throw new Error('unreachable');
        expect(!out.decision.allow && out.decision.code).toBe(c.code);
        expect(b.state.gets).toBe(0);
        expect(b.state.reads).toHaveLength(0);
        const records = w.home.audit();
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ id: out.auditId, phase: 'end', mode, decision: 'deny', code: c.code, exitCode: exit, secretExposed: false });
      });
    }
  }

  it('a denial outside any project records no tenant or project', async () => {
    const w = world();
    await handleRequest(req(), w.home.deps(w.outside, countingBackends(VALUES).factory));
    expect(w.home.audit()[0]).toMatchObject({ tenant: null, project: null });
  });

  it('check of an allowed request: exit 0, no backend call, one allow record', async () => {
    const w = world();
    const b = countingBackends(VALUES);
    const out = await handleRequest(req({ mode: 'check' }), w.home.deps(w.acme, b.factory));
    expect(out).toMatchObject({ kind: 'checked', exitCode: 0 });
    expect(b.state.gets).toBe(0);
    const records = w.home.audit();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: out.auditId, phase: 'end', mode: 'check', decision: 'allow', tenant: 'acme', project: w.acme });
  });

  it('a dry run shows the command with secret markers and touches nothing', async () => {
    const w = world();
    const b = countingBackends(VALUES);
    const out = await handleRequest(req({ dryRun: true }), w.home.deps(join(w.acme, 'src'), b.factory));
    if (out.kind !== 'dry-run') throw new Error(`expected dry-run, got ${out.kind}`);
    expect(out.plan.preview.env).toEqual({ TOKEN: '[SECRET:TOKEN]' });
    expect(b.state.gets).toBe(0);
    const records = w.home.audit();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ phase: 'end', decision: 'allow', dryRun: true, exitCode: 0 });
  });

  it('an invalid config fails closed (78) with one error record and no backend call', async () => {
    const w = world();
    w.home.writeConfig(`tenants:\n  acme:\n    projects: [${w.acme}]\n    services:\n      demo:\n        allow: ["*"]\n        escalate: auto\n`);
    const b = countingBackends(VALUES);
    const err = await handleRequest(req(), w.home.deps(w.acme, b.factory)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttemptError);
    expect((err as AttemptError).exitCode).toBe(78);
    expect(b.state.gets).toBe(0);
    const records = w.home.audit();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: (err as AttemptError).auditId, phase: 'end', decision: 'error', code: 'invalid_config', exitCode: 78 });
  });

  it('a missing command is reported before any secret is read', async () => {
    const w = world();
    const b = countingBackends(VALUES);
    const err = await handleRequest(req({ recipe: 'missing-tool' }), w.home.deps(w.acme, b.factory)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttemptError);
    expect((err as AttemptError).code).toBe('command_not_found');
    expect(b.state.gets).toBe(0);
    expect(w.home.audit().map((r) => [r.phase, r.decision])).toEqual([['start', 'allow'], ['end', 'error']]);
  });
});

describe('an allowed exec', () => {
  it('reads the secret once, runs the child, redacts its output, and records start and end under one id', async () => {
    const w = world();
    const b = countingBackends(VALUES);
    const out = await handleRequest(req(), w.home.deps(join(w.acme, 'src'), b.factory));
    if (out.kind !== 'ran') throw new Error(`expected ran, got ${out.kind}`);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe('[REDACTED:TOKEN]');
    expect(out.redactions).toBe(1);
    expect(b.state.gets).toBe(1);
    expect(b.state.reads.map((r) => r.raw)).toEqual(['local:acme/token']);
    const records = w.home.audit();
    expect(records.map((r) => [r.id, r.phase, r.decision])).toEqual([
      [out.auditId, 'start', 'allow'],
      [out.auditId, 'end', 'allow'],
    ]);
    expect(records[1]).toMatchObject({ exitCode: 0, redactions: 1, tenant: 'acme', secrets: [{ name: 'TOKEN', ref: 'local:acme/token', fingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{32}$/) }] });
    const raw = w.home.auditText();
    expect(raw.length).toBeGreaterThan(0);
    expect(raw).not.toContain(ACME_TOKEN);
  });

  it('the start record is on disk before the backend is asked', async () => {
    const w = world();
    let recordsAtRead = -1;
    const backends = () => ({
      get: async (name: string) => {
        recordsAtRead = w.home.audit().length;
        return { name, read: async () => ACME_TOKEN };
      },
    });
    await handleRequest(req(), w.home.deps(w.acme, backends));
    expect(recordsAtRead).toBe(1);
    expect(w.home.audit()[0]?.phase).toBe('start');
  });
});

describe('tenant binding through the broker', () => {
  it('a working directory reached through a symlink binds the tenant of its real folder', async () => {
    const w = world();
    const link = join(w.home.root, 'acme-link');
    symlinkSync(w.acme, link);
    const b = countingBackends(VALUES);
    const out = await handleRequest(req({ mode: 'check' }), w.home.deps(join(link, 'src'), b.factory));
    expect(out.exitCode).toBe(0);
    expect(w.home.audit()[0]).toMatchObject({ tenant: 'acme', project: w.acme });
  });

  it('a project nested inside another tenant\'s project belongs to the nested tenant', async () => {
    const w = world();
    const nested = join(w.acme, 'vendor', 'globex-sdk');
    mkdirSync(nested, { recursive: true });
    w.home.writeConfig(`tenants:
  acme:
    projects: [${w.acme}]
    services:
      demo: { secrets: { TOKEN: "local:acme/token" }, allow: ["*"] }
  globex:
    projects: [${nested}]
    services:
      demo: { secrets: { TOKEN: "env:GLOBEX_TOKEN" }, allow: ["*"] }
`);
    const b = countingBackends(VALUES);
    const inner = await handleRequest(req({ recipe: 'hash-token' }), w.home.deps(nested, b.factory));
    const outer = await handleRequest(req({ recipe: 'hash-token' }), w.home.deps(join(w.acme, 'vendor'), b.factory));
    expect(inner.kind === 'ran' && inner.plan.tenant).toBe('globex');
    expect(outer.kind === 'ran' && outer.plan.tenant).toBe('acme');
    expect(b.state.reads.map((r) => r.raw)).toEqual(['env:GLOBEX_TOKEN', 'local:acme/token']);
  });
});

describe('two tenants, two keys', () => {
  const expected = (v: string) => `${v.length} ${createHash('sha256').update(v).digest('hex')}  -\n`;

  async function hashFrom(w: World, cwd: string): Promise<{ out: Extract<BrokerOutcome, { kind: 'ran' }>; reads: string[] }> {
    const b = countingBackends(VALUES);
    const out = await handleRequest(req({ recipe: 'hash-token' }), w.home.deps(cwd, b.factory));
    if (out.kind !== 'ran') throw new Error(`expected ran, got ${out.kind}`);
    return { out, reads: b.state.reads.map((r) => `${r.backend}:${r.path}`) };
  }

  it('a child in acme\'s project receives acme\'s value and one in globex\'s receives globex\'s', async () => {
    const w = world();
    // The child prints the length and SHA-256 of what it received, so the value itself never appears.
    const a = await hashFrom(w, join(w.acme, 'src'));
    const g = await hashFrom(w, w.globex);
    expect(a.out.stdout).toBe(expected(ACME_TOKEN));
    expect(g.out.stdout).toBe(expected(GLOBEX_TOKEN));
    expect(a.out.stdout).not.toBe(g.out.stdout);
    // {{tenant}} in acme's reference was expanded before the backend saw it.
    expect(a.reads).toEqual(['local:acme/token']);
    expect(g.reads).toEqual(['env:GLOBEX_TOKEN']);
    expect(w.home.audit().filter((r) => r.phase === 'end').map((r) => r.tenant)).toEqual(['acme', 'globex']);
  });

  it('--tenant acme inside globex\'s project is denied before any read', async () => {
    const w = world();
    const b = countingBackends(VALUES);
    const out = await handleRequest(req({ recipe: 'hash-token', assertedTenant: 'acme' }), w.home.deps(w.globex, b.factory));
    expect(out.kind).toBe('denied');
    expect(b.state.gets).toBe(0);
  });
});
