import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, makeE2E, type E2E } from '../e2e/helpers.js';

// `outloop policy test FILE`: cases through the same decide() as exec, so a team keeps its policy under
// test in CI. A mismatch exits 1 and says what was expected and what the policy decided.
let e: E2E;
beforeAll(() => {
  e = makeE2E(['acme', 'globex']);
  e.writeRecipe('pay', `service: pay\nrecipes:\n  list:\n    description: list\n    risk: read\n    params:\n      limit: { type: integer, default: 5, max: 100 }\n    run: ["true"]\n  refund:\n    description: refund\n    risk: write\n    run: ["true"]\n`);
  e.writeConfig(
    configYaml(e, {
      acme: 'pay:\n  allow: [list, { recipe: refund, until: 2026-12-01T00:00:00Z }]\n  params: { limit: { max: 20 } }',
      globex: 'pay:\n  allow: ["*"]\n  maxRisk: read',
    }),
  );
});
afterAll(() => e?.cleanup());

function cases(name: string, yaml: string): string {
  const file = join(e.root, name);
  writeFileSync(file, yaml);
  return file;
}

describe('outloop policy test', () => {
  it('passes when every case gets its expected decision and code', async () => {
    const file = cases(
      'ok.yaml',
      `cases:
  - { name: acme lists, cwd: ${e.projects.acme}, request: pay.list, expect: allow }
  - { name: acme over its limit, tenant: acme, request: pay.list, params: { limit: 50 }, expect: deny, code: param_not_allowed }
  - { name: refund before it ends, tenant: acme, request: pay.refund, now: "2026-11-30T00:00:00Z", expect: allow }
  - { name: refund after it ends, tenant: acme, request: pay.refund, now: "2026-12-02T00:00:00Z", expect: deny, code: grant_expired }
  - { name: copied skill, cwd: ${e.projects.globex}, assertTenant: acme, request: pay.list, expect: deny, code: wrong_tenant }
  - { name: globex read only, tenant: globex, request: pay.refund, expect: deny, code: risk_not_allowed }
  - { name: outside every project, cwd: ${e.root}, request: pay.list, expect: deny, code: no_tenant }
`,
    );
    const r = await e.cli(['policy', 'test', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('7 passed, 0 failed');
    expect(e.audit()).toEqual([]);
  });

  it('a mismatch fails (exit 1) and says what was expected and what the policy decided', async () => {
    const file = cases('bad.yaml', `cases:\n  - { name: wrong hope, tenant: globex, request: pay.refund, expect: allow }\n  - { name: right, tenant: globex, request: pay.list, expect: allow }\n`);
    const r = await e.cli(['policy', 'test', file, '--json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { passed: number; failed: number; results: { name: string; ok: boolean; got: string; want: string }[] };
    expect(out).toMatchObject({ passed: 1, failed: 1 });
    expect(out.results[0]).toMatchObject({ name: 'wrong hope', ok: false, want: 'allow', got: 'deny/risk_not_allowed' });
  });

  it('a malformed file is a config error (78) at its line', async () => {
    const file = cases('broken.yaml', `cases:\n  - request: pay.list\n    expect: maybe\n    tenant: acme\n`);
    const r = await e.cli(['policy', 'test', file]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${file}:3:`);
  });
});
