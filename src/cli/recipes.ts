import { loadRequestContext } from '../broker/context.js';
import { cliEnvironment } from './deps.js';
import { UsageError, formatPos } from '../errors.js';
import { resolveHomes } from '../paths.js';
import { isRequired } from '../recipe/params.js';
import { paramsJsonSchema, toolName } from '../recipe/json-schema.js';
import { allRecipes, grantChecker, serviceNames } from '../recipe/catalogue.js';
import { didYouMean } from '../util/suggest.js';
import { lintRecipeFile, listRecipeFiles, loadService, type LoadedRecipe } from '../recipe/load.js';
import type { CliOptions } from './main.js';
import { writeJson } from './output.js';
import { needsApproval } from '../policy/approvals.js';

function context(opts: CliOptions) {
  return loadRequestContext(cliEnvironment(opts));
}

export function catalogueEntry(r: LoadedRecipe, granted: boolean, approvalRequired = false) {
  return {
    name: `${r.service}.${r.name}`,
    /** The MCP tool name of this recipe. */
    tool: toolName(r.service, r.name),
    service: r.service,
    recipe: r.name,
    description: r.description,
    risk: r.risk,
    granted,
    params: Object.fromEntries(Object.entries(r.params).map(([k, p]) => [k, { ...p, required: isRequired(p) }])),
    /** The same JSON Schema the MCP tool of this recipe declares. */
    inputSchema: paramsJsonSchema(r.params),
    /** Whether a call waits for a person's approval (the tenant's grant has `approve` covering it). */
    approvalRequired,
    hosts: r.hosts,
    source: r.file,
    /** The file of the action this one replaced (a team's recipe overriding a built-in one). */
    ...(r.overrides ? { overrides: r.overrides } : {}),
    ...(r.scopes ? { scopes: r.scopes } : {}),
  };
}

export async function listCommand(o: { json?: boolean; granted?: boolean }, opts: CliOptions): Promise<number> {
  const ctx = await context(opts);
  const tenant = ctx.binding?.tenant;
  const isGranted = grantChecker(ctx);
  const services = tenant ? (ctx.config.config.tenants[tenant]?.services ?? {}) : {};
  const waits = (r: LoadedRecipe) => {
    const grant = Object.hasOwn(services, r.service) ? services[r.service] : undefined;
    return grant ? needsApproval(grant, r) : false;
  };
  const entries = (await allRecipes(ctx.recipeDirs, ctx.cache)).map((r) => catalogueEntry(r, isGranted(r), isGranted(r) && waits(r))).filter((e) => !o.granted || e.granted);
  if (o.json) {
    writeJson({ tenant: tenant ?? null, project: ctx.binding?.project ?? null, recipes: entries });
    return 0;
  }
  process.stdout.write(tenant ? `Tenant ${tenant} (project ${ctx.binding!.project})\n\n` : `This folder is not bound to a tenant: nothing is granted here.\n\n`);
  if (!entries.length && o.granted) {
    process.stdout.write(tenant ? `Nothing is granted to tenant ${tenant}.\nnext: a person runs \`outloop grant ${tenant} SERVICE [RECIPE...]\`\n` : '');
    return 0;
  }
  if (!entries.length) {
    process.stdout.write('No recipes found. Add one under ' + resolveHomes(process.env).recipesDir + ' (see `outloop init`).\n');
    return 0;
  }
  const w = Math.max(...entries.map((e) => e.name.length));
  for (const e of entries) process.stdout.write(`${e.granted ? 'granted' : '-      '}  ${e.name.padEnd(w)}  ${e.risk.padEnd(5)}  ${e.description}\n`);
  return 0;
}

export async function showCommand(service: string, o: { json?: boolean }, opts: CliOptions): Promise<number> {
  const ctx = await context(opts);
  const loaded = await loadService(service, ctx.recipeDirs);
  if (!loaded) throw new UsageError(`no recipe file defines service "${service}"${didYouMean(service, serviceNames(ctx.recipeDirs))}`, { code: 'unknown_service', next: 'Run `outloop recipes list` to see what exists.' });
  const recipes = [...loaded.recipes.values()];
  if (o.json) {
    writeJson({ service, files: loaded.files, recipes: recipes.map((r) => catalogueEntry(r, false)) });
    return 0;
  }
  const out: string[] = [`${service}  (from ${loaded.files.join(', ')})`];
  for (const r of recipes) {
    out.push('', `${service}.${r.name}  [${r.risk}]  ${r.description}`, `  source: ${r.file}${r.overrides ? ` (overrides ${r.overrides})` : ''}`, `  hosts:  ${r.hosts.join(', ') || '(none)'}`);
    if (r.scopes?.length) out.push(`  key:    ${r.credential ? `${r.credential}, ` : ''}scopes: ${r.scopes.join(', ')}`);
    for (const [k, p] of Object.entries(r.params)) {
      const rules = [p.type, isRequired(p) ? 'required' : 'optional', p.default !== undefined ? `default ${p.default}` : '', p.pattern ? `pattern /${p.pattern}/` : '', p.enum ? `one of ${p.enum.join('|')}` : '', p.min !== undefined ? `min ${p.min}` : '', p.max !== undefined ? `max ${p.max}` : ''];
      out.push(`  -p ${k}=...  ${rules.filter(Boolean).join(', ')}${p.description ? `  ${p.description}` : ''}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

export async function lintCommand(files: string[], o: { json?: boolean }, opts: CliOptions): Promise<number> {
  let targets = files;
  if (!targets.length) {
    targets = listRecipeFiles((await context(opts)).recipeDirs);
  }
  const results = await Promise.all(targets.map((f) => lintRecipeFile(f)));
  const problems = results.flatMap((r) => r.problems.map((p) => ({ ...p, severity: p.severity ?? 'error' })));
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (o.json) {
    writeJson({ ok: errors === 0, files: results.map((r) => r.file), problems });
  } else {
    for (const p of problems) process.stdout.write(`${formatPos({ file: p.file, line: p.line ?? 1, col: p.col ?? 1 })}: ${p.severity}: ${p.message}\n`);
    const warnings = problems.length - errors;
    process.stdout.write(`${results.length} file${results.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  return errors ? 78 : 0;
}
