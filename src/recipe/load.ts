import { sha256Hex } from '../digest.js';
import { readdirSync } from 'node:fs';
import { readRegularFile } from '../fs/read-regular.js';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ParseCache } from '../config/cache.js';
import { keptOrLoad, type Read } from '../config/kept.js';
import type { LintResult, ServiceRecipes } from './types.js';

export type { LoadedRecipe, ServiceRecipes, LintResult } from './types.js';

/**
 * Recipe folders in precedence order, lowest first: the package's built-ins, then $OUTLOOP_HOME/recipes,
 * then config's recipePaths. A later folder's action of the same name overrides an earlier one. Never the
 * agent's working tree unless a person listed it.
 */
export function recipeDirs(builtinDir: string, homeRecipesDir: string, recipePaths: string[]): string[] {
  return [builtinDir, homeRecipesDir, ...recipePaths];
}

/** Load one service: only `<service>.yaml` (or .yml) from each folder is read, which keeps exec fast. */
export function loadService(service: string, dirs: string[], cache?: ParseCache): Promise<ServiceRecipes | undefined> {
  const files = dirs.flatMap((dir) => ['.yaml', '.yml'].map((ext) => resolve(join(dir, service + ext))));
  return keptOrLoad(`service\0${service}\0${files.join('\0')}`, files, (read) => readService(service, files, read, cache));
}

async function readService(service: string, files: string[], read: Read, cache?: ParseCache): Promise<ServiceRecipes | undefined> {
  const out: ServiceRecipes = { service, files: [], recipes: new Map() };
  for (const file of files) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      if (isMissing(err)) continue;
      throw new ConfigError([{ file, message: `cannot read recipe file: ${(err as Error).message}` }]);
    }
    const res = await lintCached(file, text, cache);
    const errors = res.problems.filter((p) => p.severity !== 'warning');
    if (errors.length) throw new ConfigError(errors);
    out.files.push(file);
    // Action by action: a later folder's action replaces the earlier one of the same name, new ones add.
    // Each action keeps the hosts and secrets of the file that defined it, so a team file can neither
    // widen a built-in action's hosts nor inherit the built-in's. Copies: cached results stay untouched.
    for (const r of res.recipes) {
      const prev = out.recipes.get(r.name);
      out.recipes.set(r.name, prev ? { ...r, overrides: prev.file } : r);
    }
  }
  return out.files.length ? out : undefined;
}

async function lintCached(file: string, text: string, cache?: ParseCache): Promise<LintResult> {
  const hit = cache?.get<LintResult>('recipe', file, text);
  // What runs, what the audit records and what approvals bind to must be these bytes: a hit whose
  // recipes name another file hash is not theirs (cache.ts MACs entries; this holds even without one).
  if (hit && hit.recipes.every((r) => r.fileSha256 === sha256(text))) return hit;
  const { lintRecipeText } = await import('../cold.js');
  const res = lintRecipeText(file, text);
  // Only valid files are cached; a broken one is re-linted (and reported) every time.
  if (!res.problems.some((p) => p.severity !== 'warning')) cache?.set('recipe', file, text, res);
  return res;
}

/** The services the recipe folders define (file names only, nothing parsed): for "did you mean". */
export function serviceNames(dirs: string[]): string[] {
  return [...new Set(listRecipeFiles(dirs).map((f) => basename(f).replace(/\.ya?ml$/, '')))].sort();
}

/** Every recipe file in the folders (for `recipes list` and `lint`). */
export function listRecipeFiles(dirs: string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (isMissing(err)) continue;
      throw err;
    }
    for (const n of names.sort()) if (/\.ya?ml$/.test(n) && !n.startsWith('.')) files.push(join(dir, n));
  }
  return files;
}

export async function lintRecipeFile(file: string): Promise<LintResult> {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    return { file, service: undefined, problems: [{ file, message: `cannot read: ${(err as Error).message}` }], recipes: [] };
  }
  const { lintRecipeText } = await import('../cold.js');
  return lintRecipeText(file, text);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function sha256(text: string): string {
  return sha256Hex(text);
}
