import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { NAME_PATTERN } from '../config/schema.js';
import { realOrResolved } from '../config/load.js';
import { resolveHomes } from '../paths.js';
import type { CliOptions } from './main.js';
import { loadRequestContext } from '../broker/context.js';
import { cliEnvironment } from './deps.js';
import { shellQuote } from './output.js';
import { addTenant } from './tenants.js';
import { setUpAgent, type AgentClient } from '../mcp/agents.js';

const CONFIG_SCHEMA_HINT = '# yaml-language-server: $schema=https://outloop.dev/schema/config.schema.json';

export function starterConfig(tenant: string, project: string): string {
  return `${CONFIG_SCHEMA_HINT}
# Outloop configuration. Secret VALUES never go here: only references to where they live.
# Check it (and every recipe file) with \`outloop config check\`; try a request with \`outloop check SERVICE.RECIPE\`.

tenants:
  ${tenant}:
    # Directories bound to this tenant (with everything below them). The nearest bound ancestor of the
    # working directory decides a request's tenant; a directory outside every project is denied.
    projects:
      - ${JSON.stringify(project)}
    services:
      example:
        # Logical secret name -> reference. Store the value with:
        #   printf %s "$TOKEN" | outloop secrets set local:${tenant}/example
        secrets:
          EXAMPLE_TOKEN: local:${tenant}/example
        # The recipes this tenant may run, or ["*"].
        allow: [get-status]
        # May \`outloop run\` wrap arbitrary commands with these secrets?
        run: false

# Extra folders of recipe files (one YAML file per service), besides $OUTLOOP_HOME/recipes.
# recipePaths: [~/team-recipes]
`;
}

const EXAMPLE_RECIPE = `# yaml-language-server: $schema=https://outloop.dev/schema/recipe.schema.json
# One file per service, named after it. Run \`outloop recipes lint\` after editing.
service: example
description: An example service; copy this file to start your own.
hosts: [api.example.com]          # the only hosts these recipes may reach
secrets: [EXAMPLE_TOKEN]          # logical names; each tenant binds them to references
recipes:
  get-status:
    description: Fetch the status of one job
    risk: read                    # read | write | admin
    params:
      job: { type: string, pattern: "^[a-z0-9-]{1,40}$", description: The job id }
    # argv, never a shell line: {{params.job}} stays inside this one argument.
    run: [curl, -sS, --fail-with-body, -K, -, "https://api.example.com/v1/jobs/{{params.job}}"]
    # Secrets go through stdin, env or files, never run (argv is visible to every user via ps).
    stdin: |
      header = "Authorization: Bearer {{secrets.EXAMPLE_TOKEN}}"
    timeout: 30s
`;

export async function initCommand(o: { tenant?: string; force?: boolean; agent?: AgentClient }, opts: CliOptions): Promise<number> {
  const homes = resolveHomes(process.env);
  const tenant = o.tenant ?? 'my-client';
  if (!NAME_PATTERN.test(tenant)) throw new UsageError(`tenant name "${tenant}" must use lowercase letters, digits, "-" and "_"`);
  const fresh = !existsSync(homes.configFile) || Boolean(o.force);
  // `init --agent X` in a set-up machine only registers the MCP server; the starter config is written
  // only where none exists yet (or with --force).
  if (o.agent && fresh) {
    await initCommand({ ...o, agent: undefined }, opts);
    process.stdout.write('\n');
  }
  // Config exists: --tenant adds that tenant for this folder (a second client), or checks the folder is its.
  if (!fresh && o.tenant !== undefined) {
    const said = await ensureTenantHere(cliEnvironment(opts), o.tenant);
    if (!o.agent) {
      process.stdout.write(`${said}\n`);
      return 0;
    }
    process.stdout.write(`${said}\n\n`);
  }
  if (o.agent) {
    const e = cliEnvironment(opts);
    const ctx = await loadRequestContext(e);
    const here = ctx.binding?.tenant;
    if (!here) {
      process.stderr.write(`outloop: warning: ${ctx.cwd} belongs to no tenant, so the MCP server will offer no tools here [no_tenant]\nnext: outloop tenant add NAME --project ${shellQuote(ctx.cwd)}\n`);
    }
    const setup = setUpAgent(o.agent, ctx.cwd, homes, process.env, { tenant: here, packageRoot: opts.packageRoot });
    for (const w of setup.warnings) process.stderr.write(`outloop: warning: ${w}\n`);
    process.stdout.write(`${setup.out.join('\n')}\n`);
    return 0;
  }
  if (existsSync(homes.configFile) && !o.force) {
    throw new UsageError(`${homes.configFile} already exists; nothing was changed`, {
      code: 'exists',
      next: 'Add a client with `outloop tenant add NAME --project DIR` (or `outloop init --tenant NAME` in its folder); pass --force to replace the file with the starter.',
    });
  }
  mkdirSync(homes.recipesDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(homes.configFile, starterConfig(tenant, realOrResolved(process.cwd())), 0o600);
  const recipe = join(homes.recipesDir, 'example.yaml');
  const wroteRecipe = !existsSync(recipe);
  if (wroteRecipe) writeFileAtomic(recipe, EXAMPLE_RECIPE, 0o644);
  process.stdout.write(
    [
      `Wrote ${homes.configFile} (this folder is bound to tenant "${tenant}").`,
      wroteRecipe ? `Wrote ${recipe}.` : `Kept the existing ${recipe}.`,
      '',
      'Next:',
      `  printf %s "$TOKEN" | outloop secrets set local:${tenant}/example`,
      '  outloop check example.get-status -p job=nightly',
      '  outloop exec example.get-status -p job=nightly',
      '',
    ].join('\n'),
  );
  return 0;
}

/** `init --tenant T` with a config: add T bound to this folder, or confirm the folder is T's. */
async function ensureTenantHere(e: ReturnType<typeof cliEnvironment>, tenant: string): Promise<string> {
  const ctx = await loadRequestContext(e);
  const here = ctx.binding?.tenant;
  if (here === tenant) return `${ctx.cwd} already belongs to tenant "${tenant}" (project ${ctx.binding!.project}); config.yaml unchanged.`;
  if (here !== undefined) {
    throw new UsageError(`${ctx.cwd} belongs to tenant "${here}" (project ${ctx.binding!.project}), not "${tenant}"; nothing was changed`, {
      code: 'wrong_tenant',
      next: `Run this in a folder of "${tenant}", or drop --tenant to set up "${here}" here.`,
    });
  }
  if (Object.hasOwn(ctx.config.config.tenants, tenant)) {
    throw new UsageError(`tenant "${tenant}" exists but ${ctx.cwd} is not one of its projects; nothing was changed`, {
      code: 'not_bound',
      next: `Bind this folder with \`outloop tenant bind ${tenant} ${shellQuote(ctx.cwd)}\`.`,
    });
  }
  return addTenant(e, tenant, ctx.cwd);
}
