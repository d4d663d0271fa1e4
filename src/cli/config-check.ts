import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { locateInConfig } from '../config/validate.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, formatPos, type ConfigProblem } from '../errors.js';
import { lintRecipeFile, listRecipeFiles, recipeDirs } from '../recipe/load.js';
import { didYouMean } from '../util/suggest.js';
import { cliEnvironment } from './deps.js';
import type { CliOptions } from './main.js';
import { writeJson } from './output.js';

/**
 * `outloop config check`: config.yaml and every recipe folder, checked the way a request loads them, each
 * problem as file:line:col. It never stops at the first broken file (unlike a request, which must fail
 * closed): an invalid config.yaml still gets its recipe folders checked, those it can know of.
 * Grants naming a service or recipe that no file defines are warnings, with the closest name.
 */
export async function configCheckCommand(o: { json?: boolean }, opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  const problems: (ConfigProblem & { severity: 'error' | 'warning' })[] = [];
  const add = (ps: ConfigProblem[]) => problems.push(...ps.map((p) => ({ ...p, severity: p.severity ?? ('error' as const) })));
  let loaded;
  try {
    loaded = await loadConfig(e.homes.configFile, e.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    add(err.problems);
  }
  const dirs = recipeDirs(e.builtinRecipesDir, e.homes.recipesDir, loaded?.recipePaths ?? []);
  const files = listRecipeFiles(dirs);
  const results = await Promise.all(files.map((f) => lintRecipeFile(f)));
  for (const r of results) add(r.problems);

  if (loaded?.exists) {
    // What the grants name, against what the recipe files define (a typo here is a grant that never works).
    const defined = new Map<string, Set<string>>();
    for (const r of results) {
      const service = r.service ?? basename(r.file).replace(/\.ya?ml$/, '');
      const set = defined.get(service) ?? new Set<string>();
      for (const x of r.recipes) set.add(x.name);
      defined.set(service, set);
    }
    const text = readFileSync(loaded.file, 'utf8');
    const warn = (path: (string | number)[], message: string) =>
      problems.push({ file: loaded.file, ...locateInConfig(loaded.file, text, path), message, severity: 'warning' });
    // In system mode a users entry that names no OS user fails every request: said here first.
    const named = Object.values(loaded.config.tenants).some((t) => (t.users ?? []).some((u) => typeof u === 'string'));
    const uidOf = named ? (await import('../system/users.js')).systemUidOf(loaded.file) : undefined;
    for (const [tenant, t] of Object.entries(loaded.config.tenants)) {
      (t.users ?? []).forEach((u, i) => {
        if (typeof u === 'string' && uidOf?.(u) === undefined) warn(['tenants', tenant, 'users', i], `tenants.${tenant}.users: there is no OS user "${u}" on this system; in system mode every request fails until it is fixed (or give its uid)`);
      });
      for (const [service, g] of Object.entries(t.services)) {
        const recipes = defined.get(service);
        if (!recipes) {
          warn(['tenants', tenant, 'services', service], `tenants.${tenant}.services.${service}: no recipe file defines service "${service}"${didYouMean(service, defined.keys())}`);
          continue;
        }
        g.allow.forEach((a, i) => {
          const name = typeof a === 'string' ? a : a.recipe;
          if (name !== '*' && !recipes.has(name)) warn(['tenants', tenant, 'services', service, 'allow', i], `tenants.${tenant}.services.${service}.allow: service "${service}" has no recipe "${name}"${didYouMean(name, recipes)}`);
        });
      }
    }
  }

  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const checked = [...(loaded?.exists === false ? [] : [e.homes.configFile]), ...files];
  if (o.json) {
    writeJson({ ok: errors === 0, config: e.homes.configFile, configExists: loaded?.exists ?? true, files: checked, problems });
  } else {
    for (const p of problems) process.stdout.write(`${formatPos({ file: p.file, line: p.line ?? 1, col: p.col ?? 1 })}: ${p.severity}: ${p.message}\n`);
    if (loaded && !loaded.exists) process.stdout.write(`${e.homes.configFile} does not exist yet (every request is denied); create it with \`outloop init\`.\n`);
    process.stdout.write(`${checked.length} file${checked.length === 1 ? '' : 's'} checked (config.yaml and ${files.length} recipe file${files.length === 1 ? '' : 's'} in ${dirs.length} folders): ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  return errors ? 78 : 0;
}

export const CONFIG_CHECK_HELP = `
Checks ${join('$OUTLOOP_HOME', 'config.yaml')} (or ~/.config/outloop/config.yaml) and every recipe folder: the built-in
recipes, $OUTLOOP_HOME/recipes and config's recipePaths. Exit 0 when nothing is wrong (warnings allowed), 78 on
any error.

Examples:
  $ outloop config check
  $ outloop config check --json | jq '.problems[] | "\\(.file):\\(.line): \\(.message)"'`;
