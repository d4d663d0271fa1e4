import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { build } from 'esbuild';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, type Decision } from '../../src/policy/decide.js';
import { budgetRefusal, budgetsFor, parseRate, type Budget } from '../../src/policy/guardrails.js';
import { configFrom, expectGates, serviceFrom } from './helpers.js';
import { makeE2E, type E2E } from '../e2e/helpers.js';

// Budgets: `rate: N/min|h|day` on a tenant, a service grant or one allowed recipe, counted across every
// outloop process on the machine; a spent budget denies with budget_exhausted and says when to retry.
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('budgets, pure', () => {
  it('parses rates and finds the budgets that apply to a request', () => {
    expect(parseRate('3/min')).toEqual({ limit: 3, windowMs: 60_000 });
    expect(parseRate('60/h')).toEqual({ limit: 60, windowMs: 3_600_000 });
    const config = configFrom(`tenants:\n  acme:\n    rate: 100/day\n    services:\n      demo:\n        rate: 10/h\n        allow: [list, { recipe: refund, rate: 2/min }]\n`);
    const grant = config.tenants.acme!.services.demo;
    expect(budgetsFor('acme', config.tenants.acme!.rate, 'demo', grant, 'refund').map((b) => [b.key, b.limit])).toEqual([
      ['tenant:acme', 100],
      ['service:acme/demo', 10],
      ['recipe:acme/demo.refund', 2],
    ]);
    expect(budgetsFor('acme', undefined, 'demo', configFrom(`tenants:\n  acme:\n    services:\n      demo:\n        allow: [list]\n`).tenants.acme!.services.demo, 'list')).toEqual([]);
  });

  it('counts only calls inside the window, and says when one fits again', () => {
    const b: Budget = { key: 'k', limit: 2, windowMs: 60_000, label: 'k: 2/min' };
    expect(budgetRefusal([b], { k: [NOW - 61_000, NOW - 30_000] }, NOW)).toBeUndefined();
    const spent = budgetRefusal([b], { k: [NOW - 50_000, NOW - 20_000, NOW - 10_000] }, NOW);
    // Three in the window, limit two: two must age out, the second-oldest at NOW - 20 s + 60 s.
    expect(spent?.retryAt).toBe(NOW - 20_000 + 60_000);
  });

  it('decide() puts the budget gate last and names the budget and the retry time', () => {
    const config = configFrom(`tenants:\n  acme:\n    projects: [/w/acme]\n    services:\n      demo:\n        rate: 1/min\n        allow: ["*"]\n`);
    const service = serviceFrom(`service: demo\nrecipes:\n  list:\n    description: list\n    run: ["true"]\n`);
    const at = (usage: Record<string, number[]>): Decision =>
      decide({ service: 'demo', recipe: 'list', params: {}, cwd: '/w/acme' }, { binding: { tenant: 'acme', project: '/w/acme' }, tenants: config.tenants, service, configFile: '/c.yaml', now: NOW, usage });
    const ok = at({});
    expect(ok.allow && ok.plan.budgets.map((b) => b.key)).toEqual(['service:acme/demo']);
    const d = at({ 'service:acme/demo': [NOW - 1000] });
    if (d.allow) throw new Error('expected budget_exhausted');
    expect(d.code).toBe('budget_exhausted');
    expect(d.reason).toContain('service demo of tenant acme: 1/min');
    expect(d.next).toContain(new Date(NOW - 1000 + 60_000).toISOString());
    expectGates(d, 'budget');
  });
});

describe('the budget store', () => {
  it('charges under one lock: six processes with a slow decision, exactly three allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outloop-budget-'));
    try {
      const worker = join(dir, 'worker.mjs');
      await build({ entryPoints: ['test/core/fixtures/budget-worker.ts'], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'warning' });
      const startAt = String(Date.now() + 1500);
      const outs = await Promise.all(
        Array.from({ length: 6 }, () => new Promise<string>((ok) => {
          const c = spawn(process.execPath, [worker, dir, startAt]);
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('close', () => ok(out.trim()));
        })),
      );
      expect(outs.sort()).toEqual(['allowed', 'allowed', 'allowed', 'refused', 'refused', 'refused']);
      expect(JSON.parse(readFileSync(join(dir, 'budgets.json'), 'utf8'))['service:acme/api']).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('budgets across processes (the built CLI)', () => {
  const FAKES = resolve('test/backends/fakes');
  let e: E2E;
  let calls: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    e = makeE2E(['acme']);
    calls = join(e.root, 'op-calls.log');
    const fixture = join(e.root, 'op.json');
    writeFileSync(fixture, JSON.stringify({ serviceAccountToken: 'sa-token', vaults: { Acme: { Api: { credential: 'budget-secret-value' } } } }));
    env = { PATH: [FAKES, e.env.PATH].join(delimiter), FAKE_VAULT_FILE: fixture, FAKE_CALL_LOG: calls, OP_SERVICE_ACCOUNT_TOKEN: 'sa-token' };
    e.writeRecipe('api', `service: api\nsecrets: [T]\nrecipes:\n  ping:\n    description: use the key\n    risk: read\n    run: [sh, -c, 'test -n "$T"']\n    env: { T: "{{secrets.T}}" }\n`);
    e.writeConfig(`tenants:\n  acme:\n    projects: [${JSON.stringify(e.projects.acme)}]\n    services:\n      api:\n        secrets: { T: "op://Acme/Api/credential" }\n        allow: ["*"]\n        rate: 3/min\nstoreKey: file\n`);
  });
  afterAll(() => e?.cleanup());

  it('check and dry runs never spend a budget', async () => {
    for (let i = 0; i < 4; i++) expect((await e.cli(['check', 'api.ping'], { env })).status).toBe(0);
    expect((await e.cli(['exec', 'api.ping', '--dry-run'], { env })).status).toBe(0);
  });

  it('six concurrent calls against 3/min: exactly three run; the other three are refused without a backend call', async () => {
    writeFileSync(calls, '');
    const runs = await Promise.all(Array.from({ length: 6 }, () => e.cli(['exec', 'api.ping', '--json'], { env })));
    const statuses = runs.map((r) => r.status).sort();
    expect(statuses).toEqual([0, 0, 0, 77, 77, 77]);
    for (const r of runs.filter((x) => x.status === 77)) {
      const env77 = JSON.parse(r.stdout) as { code: string; next: string };
      expect(env77.code).toBe('budget_exhausted');
      expect(env77.next).toMatch(/Retry after \d{4}-\d\d-\d\dT/);
    }
    // The op stand-in logs every run of the CLI: only the three allowed calls read the secret.
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(3);
    const codes = e.audit().filter((r) => r.phase === 'end' && r.mode === 'exec' && !r.dryRun).map((r) => r.code ?? 'ran');
    expect(codes.sort()).toEqual(['budget_exhausted', 'budget_exhausted', 'budget_exhausted', 'ran', 'ran', 'ran']);
  });
});
