import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleRequest } from '../../src/broker/exec.js';
import { denyExitCode } from '../../src/errors.js';
import { decide, type Decision, type DenyCode } from '../../src/policy/decide.js';
import { grantAllows } from '../../src/policy/guardrails.js';
import { configFrom, countingBackends, expectGates, makeHome, serviceFrom, useTempDirs } from './helpers.js';

// Guardrails and expiring grants narrow what a grant allows: deny rules with a reason, per-recipe and
// whole-grant expiry, a risk ceiling, and parameter limits tighter than the recipe's own.
const NOW = Date.parse('2026-11-24T12:00:00Z');
const PAST = '2026-11-24T11:59:59Z';
const FUTURE = '2026-11-24T12:00:01Z';

const DEMO_YAML = `
service: demo
secrets: [TOKEN]
recipes:
  list:
    description: List items
    risk: read
    params:
      limit: { type: integer, default: 10, min: 1, max: 100 }
      repo: { type: string, pattern: "[a-z]+", default: web }
    run: [sh, -c, 'echo "$T" {{params.limit}} {{params.repo}}']
    env: { T: "{{secrets.TOKEN}}" }
  refund:
    description: Refund a payment
    risk: write
    run: ["true"]
    env: { T: "{{secrets.TOKEN}}" }
  purge:
    description: Delete everything
    risk: admin
    run: ["true"]
`;
const DEMO = serviceFrom(DEMO_YAML);

function grant(extra: string): string {
  return `tenants:\n  acme:\n    projects: [/w/acme]\n    services:\n      demo:\n        secrets: { TOKEN: "local:acme/token" }\n${extra
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n')}\n`;
}

function decideWith(extra: string, recipe: string, params: Record<string, string> = {}, now = NOW): Decision {
  const config = configFrom(grant(extra));
  return decide(
    { service: 'demo', recipe, params, cwd: '/w/acme' },
    { binding: { tenant: 'acme', project: '/w/acme' }, tenants: config.tenants, service: DEMO, configFile: '/c.yaml', now },
  );
}

function denied(d: Decision, code: DenyCode, gate: Parameters<typeof expectGates>[1], reasonHas: string): void {
  if (d.allow) throw new Error(`expected ${code}, got allow`);
  expect(d.code).toBe(code);
  expect(d.reason).toContain(reasonHas);
  expect(d.next.length).toBeGreaterThan(20);
  expect(denyExitCode(code)).toBe(code === 'bad_param' ? 65 : 77);
  expectGates(d, gate);
}

describe('expiring grants', () => {
  it('a whole grant past its until is grant_expired at the service gate; before it, allowed', () => {
    denied(decideWith(`allow: ["*"]\nuntil: ${PAST}`, 'list'), 'grant_expired', 'service', PAST);
    expect(decideWith(`allow: ["*"]\nuntil: ${FUTURE}`, 'list').allow).toBe(true);
  });

  it('one recipe past its own until is grant_expired at the recipe gate, the rest of the grant still works', () => {
    const extra = `allow: [list, { recipe: refund, until: ${PAST} }]`;
    denied(decideWith(extra, 'refund'), 'grant_expired', 'recipe', PAST);
    expect(decideWith(extra, 'list').allow).toBe(true);
    expect(decideWith(`allow: [list, { recipe: refund, until: ${FUTURE} }]`, 'refund').allow).toBe(true);
  });

  it('a time without a zone is a config error, so a grant never ends at a different moment elsewhere', () => {
    expect(() => configFrom(grant('allow: ["*"]\nuntil: 2026-12-01T00:00:00'))).toThrow(/time with its zone/);
  });
});

describe('guardrails', () => {
  it('a deny rule wins over allow and shows its reason', () => {
    denied(decideWith('allow: ["*"]\ndeny: { refund: refunds go through finance }', 'refund'), 'recipe_denied', 'recipe', 'refunds go through finance');
    denied(decideWith('allow: ["*"]\ndeny: { "*": this client is frozen }', 'list'), 'recipe_denied', 'recipe', 'this client is frozen');
    expect(decideWith('allow: ["*"]\ndeny: { refund: no }', 'list').allow).toBe(true);
  });

  it('maxRisk denies recipes above the ceiling (risk gate) and allows those at or below it', () => {
    denied(decideWith('allow: ["*"]\nmaxRisk: read', 'refund'), 'risk_not_allowed', 'risk', 'write recipe, above the read ceiling');
    denied(decideWith('allow: ["*"]\nmaxRisk: write', 'purge'), 'risk_not_allowed', 'risk', 'admin');
    expect(decideWith('allow: ["*"]\nmaxRisk: write', 'refund').allow).toBe(true);
  });

  it('grant parameter limits narrow the recipe’s own rules: param_not_allowed names the parameter', () => {
    const extra = 'allow: ["*"]\nparams: { limit: { max: 20 }, repo: { enum: [web, api] } }';
    const tooMany = decideWith(extra, 'list', { limit: '50' });
    denied(tooMany, 'param_not_allowed', 'params', 'limit');
    expect(!tooMany.allow && tooMany.param).toBe('limit');
    denied(decideWith(extra, 'list', { repo: 'infra' }), 'param_not_allowed', 'params', 'repo');
    expect(decideWith(extra, 'list', { limit: '20', repo: 'api' }).allow).toBe(true);
    // The recipe's own rule still applies first: 500 is over its max of 100, a bad_param.
    denied(decideWith(extra, 'list', { limit: '500' }), 'bad_param', 'params', 'limit');
  });

  it('the tool catalogue agrees with decide(): grantAllows is false exactly when a guardrail refuses', () => {
    const cases: [string, 'list' | 'refund' | 'purge'][] = [
      [`allow: ["*"]\nuntil: ${PAST}`, 'list'],
      [`allow: [list, { recipe: refund, until: ${PAST} }]`, 'refund'],
      ['allow: ["*"]\ndeny: { refund: no }', 'refund'],
      ['allow: ["*"]\nmaxRisk: read', 'refund'],
      ['allow: [list]', 'refund'],
      ['allow: ["*"]', 'purge'],
    ];
    for (const [extra, recipe] of cases) {
      const g = configFrom(grant(extra)).tenants.acme!.services.demo!;
      expect(grantAllows(g, DEMO.recipes.get(recipe)!, NOW), `${extra} / ${recipe}`).toBe(decideWith(extra, recipe).allow);
    }
  });
});

describe('deny before touching, for every new code', () => {
  const tmp = useTempDirs();
  const cases: [DenyCode, string, string, Record<string, string>][] = [
    // The broker decides on the real clock: this grant ended long ago.
    ['grant_expired', 'allow: ["*"]\nuntil: 2020-01-01T00:00:00Z', 'list', {}],
    ['recipe_denied', 'allow: ["*"]\ndeny: { list: not today }', 'list', {}],
    ['risk_not_allowed', 'allow: ["*"]\nmaxRisk: read', 'refund', {}],
    ['param_not_allowed', 'allow: ["*"]\nparams: { limit: { max: 5 } }', 'list', { limit: '6' }],
  ];
  it.each(cases)('%s: no backend call, one deny record, exit 77', async (code, extra, recipe, params) => {
    const root = tmp();
    const home = makeHome(root);
    const project = join(root, 'acme');
    mkdirSync(project);
    home.writeConfig(grant(extra).replace('/w/acme', project));
    home.writeRecipe('demo', DEMO_YAML);
    const b = countingBackends({ 'local:acme/token': 'tok-123456789' });
    const out = await handleRequest({ service: 'demo', recipe, params, mode: 'exec' }, home.deps(project, b.factory));
    expect(out).toMatchObject({ kind: 'denied', exitCode: 77 });
    expect(b.state.gets).toBe(0);
    expect(home.audit()).toHaveLength(1);
    expect(home.audit()[0]).toMatchObject({ decision: 'deny', code });
  });
});
