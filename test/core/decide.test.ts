import { describe, expect, it } from 'vitest';
import { denyExitCode, DeniedError, Exit } from '../../src/errors.js';
import { decide, GATES, type Decision, type DenyCode, type PolicyContext, type PolicyRequest } from '../../src/policy/decide.js';
import { configFrom, expectGates, serviceFrom } from './helpers.js';

const CONFIG = configFrom(`
tenants:
  acme:
    projects: [/w/acme]
    services:
      demo:
        secrets: { TOKEN: "local:acme/token" }
        allow: [get, list, needs-other]
      ghost:
        allow: ["*"]
  globex:
    projects: [/w/globex]
    services:
      demo:
        secrets: { TOKEN: "op://Globex/Demo/token" }
        allow: ["*"]
`);

const DEMO = serviceFrom(`
service: demo
hosts: [api.example.com]
secrets: [TOKEN, OTHER]
recipes:
  get:
    description: Get one item
    risk: read
    params:
      id: { type: string, pattern: "[0-9]+" }
      host: { type: string, default: api.example.com }
    run: [curl, -sS, -K, -, "https://{{params.host}}/v1/items/{{params.id}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
  list:
    description: List items
    risk: read
    run: [curl, -sS, -K, -, "https://api.example.com/v1/items"]
    stdin: 'header = "Authorization: Bearer {{secrets.TOKEN}}"'
  needs-other:
    description: Uses a secret acme never bound
    run: [sh, -c, 'true']
    env: { O: "{{secrets.OTHER}}" }
  delete:
    description: Delete an item
    risk: admin
    run: [curl, -X, DELETE, "https://api.example.com/v1/items"]
`);

const BINDINGS = {
  acme: { tenant: 'acme', project: '/w/acme' },
  globex: { tenant: 'globex', project: '/w/globex' },
};

function run(over: Partial<PolicyRequest> = {}, ctx: Partial<PolicyContext> = {}): Decision {
  return decide(
    { service: 'demo', recipe: 'get', params: { id: '42' }, cwd: '/w/acme/src', ...over },
    { binding: BINDINGS.acme, tenants: CONFIG.tenants, service: DEMO, configFile: '/home/u/.config/outloop/config.yaml', ...ctx },
  );
}

function denied(d: Decision, code: DenyCode): Extract<Decision, { allow: false }> {
  if (d.allow) throw new Error(`expected a ${code} denial, got allow`);
  expect(d.code).toBe(code);
  expect(d.next.trim().length).toBeGreaterThan(10);
  expect(d.reason.trim().length).toBeGreaterThan(10);
  // The failing gate's detail is the reason, so `check` and the denial say the same thing.
  expect(d.gates.find((g) => g.status === 'fail')?.detail).toBe(d.reason);
  return d;
}

describe('decide: the allowed path', () => {
  it('allows a granted recipe, every gate passes, and the plan shows secrets only as markers', () => {
    const d = run();
    if (!d.allow) throw new Error(`denied: ${d.reason}`);
    expect(d.gates.map((g) => [g.name, g.status])).toEqual(GATES.map((g) => [g, 'pass']));
    expect(d.plan).toMatchObject({ tenant: 'acme', project: '/w/acme', service: 'demo', params: { id: '42', host: 'api.example.com' } });
    expect(d.plan.secretRefs).toEqual({ TOKEN: 'local:acme/token' });
    expect(d.plan.preview.argv).toEqual(['curl', '-sS', '-K', '-', 'https://api.example.com/v1/items/42']);
    expect(d.plan.preview.stdin).toBe('header = "Authorization: Bearer [SECRET:TOKEN]"\n');
  });

  it('the same request from another tenant uses that tenant\'s reference', () => {
    const d = run({ cwd: '/w/globex' }, { binding: BINDINGS.globex });
    expect(d.allow && d.plan.secretRefs).toEqual({ TOKEN: 'op://Globex/Demo/token' });
  });

  it('a matching --tenant assertion passes', () => {
    const d = run({ assertedTenant: 'acme' });
    expect(d.allow).toBe(true);
    expect(d.gates[1]).toMatchObject({ name: 'assertion', status: 'pass' });
  });
});

describe('decide: every deny code', () => {
  it('no_tenant: the folder is outside every project', () => {
    const d = denied(run({ cwd: '/tmp/elsewhere' }, { binding: null }), 'no_tenant');
    expect(d.reason).toContain('/tmp/elsewhere');
    expect(d.next).toContain('config.yaml');
    expectGates(d, 'tenant');
    expect(denyExitCode(d.code)).toBe(77);
  });

  it('wrong_tenant: a skill written for one tenant running in another\'s project', () => {
    const d = denied(run({ assertedTenant: 'globex' }), 'wrong_tenant');
    expect(d.reason).toContain('"acme"');
    expect(d.reason).toContain('"globex"');
    expectGates(d, 'assertion');
    expect(denyExitCode(d.code)).toBe(77);
  });

  it('service_not_granted: the tenant has no grant for the service', () => {
    const d = denied(run({ service: 'stripe', recipe: 'x' }), 'service_not_granted');
    expect(d.reason).toContain('"stripe"');
    expect(d.reason).toContain('"acme"');
    expect(d.next).toContain('tenants.acme.services.stripe');
    expectGates(d, 'service');
    expect(denyExitCode(d.code)).toBe(77);
  });

  it('unknown_service: no recipe file defines it, granted or not, said before the grant check with the closest name', () => {
    const d = denied(run({ service: 'ghost', recipe: 'x' }, { service: undefined }), 'unknown_service');
    expect(d.reason).toContain('"ghost"');
    expectGates(d, 'service');
    expect(denyExitCode(d.code)).toBe(64);
    // The case: a typo of a service the tenant has no grant for is not "ask for gihub to be granted".
    const typo = denied(run({ service: 'gihub', recipe: 'list-issues' }, { service: undefined, serviceNames: ['github', 'gitlab', 'stripe'] }), 'unknown_service');
    expect(typo.reason).toContain('did you mean "github"?');
    expect(typo.next).not.toContain('grant');
    expectGates(typo, 'service');
  });

  it('unknown_recipe: the service has no such recipe, and the reason lists the ones it has', () => {
    const d = denied(run({ recipe: 'nope' }), 'unknown_recipe');
    expect(d.reason).toContain('"nope"');
    expect(denied(run({ recipe: 'lst' }), 'unknown_recipe').reason).toContain('did you mean "list"?');
    expect(d.reason).toContain('delete, get, list, needs-other');
    expectGates(d, 'recipe');
    expect(denyExitCode(d.code)).toBe(64);
  });

  it('recipe_not_allowed: the recipe exists but the grant does not list it', () => {
    const d = denied(run({ recipe: 'delete', params: {} }), 'recipe_not_allowed');
    expect(d.reason).toContain('demo.delete');
    expect(d.reason).toContain('get, list, needs-other');
    expect(d.next).toContain('"delete"');
    expectGates(d, 'recipe');
    expect(denyExitCode(d.code)).toBe(77);
    // allow: ["*"] grants it for globex.
    expect(run({ recipe: 'delete', params: {}, cwd: '/w/globex' }, { binding: BINDINGS.globex }).allow).toBe(true);
  });

  it('secret_not_bound: the recipe needs a secret the tenant never bound', () => {
    const d = denied(run({ recipe: 'needs-other', params: {} }), 'secret_not_bound');
    expect(d.reason).toContain('OTHER');
    expect(d.next).toContain('tenants.acme.services.demo.secrets.OTHER');
    expectGates(d, 'secrets');
    expect(denyExitCode(d.code)).toBe(78);
  });

  it('bad_param: a value that fails its rule, naming the parameter', () => {
    const d = denied(run({ params: { id: '12abc' } }), 'bad_param');
    expect(d.param).toBe('id');
    expect(d.reason).toContain('"id"');
    expect(d.reason).toContain('12abc');
    expectGates(d, 'params');
    expect(denyExitCode(d.code)).toBe(65);
  });

  it('bad_param: an unknown parameter is named', () => {
    const d = denied(run({ params: { id: '1', limit: '5' } }), 'bad_param');
    expect(d.param).toBe('limit');
    expect(d.reason).toContain('"limit"');
    expect(d.reason).toContain('id, host');
  });

  it('host_not_allowed: a parameter that moves the request to another host', () => {
    const d = denied(run({ params: { id: '1', host: 'evil.example' } }), 'host_not_allowed');
    expect(d.reason).toContain('evil.example');
    expect(d.reason).toContain('api.example.com');
    expectGates(d, 'hosts');
    expect(denyExitCode(d.code)).toBe(77);
  });

  it('the first failing gate decides: a wrong tenant is reported before an unknown service', () => {
    const d = run({ assertedTenant: 'globex', service: 'nothing' }, { service: undefined });
    expect(!d.allow && d.code).toBe('wrong_tenant');
  });

  // Regression (was a bug): src/policy/decide.ts `ctx.tenants[b.tenant]?.services[req.service]` reads inherited properties, so a
  // service named "constructor" (a valid NAME_PATTERN name) finds Object.prototype.constructor as its grant:
  // the service gate passes ("constructor granted to acme") with no grant, and with a constructor.yaml
  // recipe file present `grant.allow.includes` throws a TypeError (exit 70, no audit record) instead of a
  // service_not_granted denial. Fix: `Object.hasOwn(services, req.service) ? services[req.service] : undefined`.
  it('a service named like an Object.prototype member is not granted by inheritance', () => {
    const ctor = serviceFrom(
      'service: constructor\nrecipes:\n  x:\n    description: x\n    run: [sh, -c, "true"]\n',
      '/recipes/constructor.yaml',
    );
    const d = run({ service: 'constructor', recipe: 'x', params: {} }, { service: ctor });
    expect(!d.allow && d.code).toBe('service_not_granted');
  });
});

describe('denyExitCode and DeniedError', () => {
  it('maps each deny code to the contract\'s exit code', () => {
    const want: Record<DenyCode, number> = {
      no_tenant: 77,
      wrong_tenant: 77,
      service_not_granted: 77,
      unknown_service: 64,
      unknown_recipe: 64,
      recipe_not_allowed: 77,
      secret_not_bound: 78,
      bad_param: 65,
      host_not_allowed: 77,
      grant_expired: 77,
      recipe_denied: 77,
      risk_not_allowed: 77,
      param_not_allowed: 77,
      budget_exhausted: 77,
      approval_required: 75,
      approval_denied: 77,
      approval_expired: 77,
      sandbox_unavailable: 77,
    };
    for (const [code, exit] of Object.entries(want)) {
      expect(denyExitCode(code), code).toBe(exit);
      expect(new DeniedError(code, 'r', 'n').exitCode, code).toBe(exit);
    }
    expect(denyExitCode('budget_spent')).toBe(Exit.denied);
  });
});
