import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, makeE2E, type E2E } from '../e2e/helpers.js';

// The sandbox requirement in `outloop policy test` and `check`: a case states the machine fact, so a
// team's policy tests mean the same on every CI machine.
let e: E2E;
beforeAll(() => {
  e = makeE2E(['acme']);
  e.writeRecipe('pay', `service: pay\nhosts: [api.pay.example]\nrecipes:\n  list:\n    description: list\n    risk: read\n    run: ["true"]\n`);
  e.writeConfig(configYaml(e, { acme: 'pay:\n  allow: ["*"]\n  sandbox: required' }));
});
afterAll(() => e?.cleanup());

describe('sandbox: required in policy tests', () => {
  it('allows where a sandbox is available, denies sandbox_unavailable where none is', async () => {
    const file = join(e.root, 'cases.yaml');
    writeFileSync(
      file,
      `cases:
  - { name: sandboxed machine, tenant: acme, request: pay.list, expect: allow }
  - { name: bare machine, tenant: acme, request: pay.list, sandbox: unavailable, expect: deny, code: sandbox_unavailable }
`,
    );
    const r = await e.cli(['policy', 'test', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+sandboxed machine$/m);
    expect(r.stdout).toMatch(/^ok\s+bare machine$/m);
    writeFileSync(file, `cases:\n  - { tenant: acme, request: pay.list, sandbox: unavailable, expect: allow }\n`);
    const bad = await e.cli(['policy', 'test', file]);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('sandbox_unavailable');
  });
});
