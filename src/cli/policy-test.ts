import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadRequestContext, type Environment } from '../broker/context.js';
import { parseYaml, zodProblems } from '../config/yaml.js';
import { projectsAround, realOrResolved } from '../config/load.js';
import { ConfigError, UsageError } from '../errors.js';
import { expandHome } from '../paths.js';
import { decide } from '../policy/decide.js';
import { resolveTenant, type TenantBinding } from '../policy/tenant.js';
import { loadService } from '../recipe/load.js';
import { serviceNames } from '../recipe/catalogue.js';
import { cliEnvironment } from './deps.js';
import type { CliOptions } from './main.js';
import { writeJson } from './output.js';
import { parseTarget } from './params.js';

/**
 * `outloop policy test FILE.yaml`: a team's policy under test in CI. Each case names where the request
 * comes from (a folder, or a tenant), the request, and the decision (and code) it must get. Cases run
 * through the same pure decide() as exec, against the real config and recipes; no secret backend, child
 * or audit record is involved. Exit 0 when every case matches, 1 when any does not, 78 for a bad file.
 */
const CaseSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    cwd: z.string().min(1).optional().describe('The folder the request comes from (~ allowed; relative to the test file).'),
    tenant: z.string().min(1).optional().describe("Or: act from this tenant's first project folder."),
    assertTenant: z.string().min(1).optional().describe('What --tenant would assert.'),
    request: z.string().min(1).describe('SERVICE.RECIPE'),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    now: z.string().optional().describe('The clock for expiring grants, e.g. 2026-12-02T00:00:00Z.'),
    expect: z.enum(['allow', 'deny']),
    code: z.string().optional().describe('The deny code expected (with expect: deny).'),
    sandbox: z.enum(['available', 'unavailable']).default('available').describe('The machine fact for sandbox: required (default: a sandbox is available), so a case does not depend on the machine it runs on.'),
  })
  .refine((c) => (c.cwd === undefined) !== (c.tenant === undefined), { message: 'give either cwd or tenant' });

const FileSchema = z.strictObject({ cases: z.array(CaseSchema).min(1) });

interface Outcome {
  name: string;
  ok: boolean;
  got: string;
  want: string;
  reason?: string;
}

export async function policyTestCommand(file: string, o: { json?: boolean }, opts: CliOptions): Promise<number> {
  return runPolicyTests(resolve(file), cliEnvironment(opts), o, (s) => process.stdout.write(s));
}

export async function runPolicyTests(file: string, env: Environment, o: { json?: boolean }, out: (s: string) => void): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const y = parseYaml(file, text);
  if (y.problems.length) throw new ConfigError(y.problems);
  const parsed = FileSchema.safeParse(y.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(y, parsed.error));

  const ctx = await loadRequestContext(env);
  const tenants = ctx.config.config.tenants;
  const results: Outcome[] = [];
  for (const [i, c] of parsed.data.cases.entries()) {
    const name = c.name ?? `case ${i + 1} (${c.request})`;
    const { service, recipe } = parseTarget(c.request);
    let cwd: string;
    let binding: TenantBinding | null;
    if (c.cwd !== undefined) {
      cwd = realOrResolved(resolve(dirname(file), expandHome(c.cwd, env.env)));
      binding = resolveTenant(cwd, projectsAround(cwd, ctx.config));
    } else {
      if (!Object.hasOwn(tenants, c.tenant!)) throw new ConfigError([{ file, ...y.locate(['cases', i, 'tenant']), message: `no tenant "${c.tenant}" in ${ctx.config.file}` }]);
      const project = ctx.config.projects.find((p) => p.tenant === c.tenant)?.path ?? `(tenant ${c.tenant})`;
      cwd = project;
      binding = { tenant: c.tenant!, project };
    }
    const now = c.now === undefined ? Date.now() : Date.parse(c.now);
    if (Number.isNaN(now)) throw new ConfigError([{ file, ...y.locate(['cases', i, 'now']), message: `"${c.now}" is not a time` }]);
    const d = decide(
      { service, recipe, params: Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, String(v)])), assertedTenant: c.assertTenant, cwd },
      { binding, tenants, service: await loadService(service, ctx.recipeDirs, ctx.cache), serviceNames: serviceNames(ctx.recipeDirs), configFile: ctx.config.file, now, sandboxAvailable: c.sandbox === 'available' },
    );
    const got = d.allow ? 'allow' : `deny/${d.code}`;
    const want = c.expect === 'allow' ? 'allow' : c.code ? `deny/${c.code}` : 'deny';
    const ok = c.expect === 'allow' ? d.allow : !d.allow && (c.code === undefined || c.code === d.code);
    results.push({ name, ok, got, want, ...(d.allow ? {} : { reason: d.reason }) });
  }
  const failed = results.filter((r) => !r.ok).length;
  if (o.json) writeJson({ ok: failed === 0, passed: results.length - failed, failed, results });
  else {
    for (const r of results) out(r.ok ? `ok    ${r.name}\n` : `FAIL  ${r.name}: expected ${r.want}, got ${r.got}${r.reason ? ` (${r.reason})` : ''}\n`);
    out(`${results.length - failed} passed, ${failed} failed\n`);
  }
  return failed ? 1 : 0;
}
