import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintRecipeFile } from '../../src/recipe/load.js';
import type { LintResult } from '../../src/recipe/types.js';
import { checkCase, RECIPES_DIR, type RecipeCase } from './harness.js';

/**
 * Every built-in recipe: lints with no error and no warning, has at least one case, and every case runs
 * for real against a stand-in for the vendor (see harness.ts). A new recipe without a case fails here.
 */
const CASES_DIR = new URL('.', import.meta.url).pathname;
const services = readdirSync(RECIPES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

const loaded = new Map<string, { lint: LintResult; cases: RecipeCase[] | undefined }>();
for (const service of services) {
  const lint = await lintRecipeFile(join(RECIPES_DIR, `${service}.yaml`));
  const file = join(CASES_DIR, `${service}.cases.ts`);
  const cases = existsSync(file) ? ((await import(pathToFileURL(file).href)) as { cases: RecipeCase[] }).cases : undefined;
  loaded.set(service, { lint, cases });
}

describe('the built-in recipe library', () => {
  it('has recipe files', () => expect(services.length).toBeGreaterThan(0));

  it('has no cases file without a recipe file', () => {
    const orphans = readdirSync(CASES_DIR)
      .filter((f) => f.endsWith('.cases.ts'))
      .map((f) => f.slice(0, -'.cases.ts'.length))
      .filter((s) => !services.includes(s));
    expect(orphans).toEqual([]);
  });

  for (const service of services) {
    const { lint, cases } = loaded.get(service)!;
    describe(service, () => {
      it('lints with no errors and no warnings', () => {
        expect(lint.problems).toEqual([]);
        expect(lint.recipes.length).toBeGreaterThan(0);
      });

      it(`has test/recipes/${service}.cases.ts with a case for every recipe`, () => {
        expect(cases, `test/recipes/${service}.cases.ts is missing`).toBeDefined();
        const actions = lint.recipes.map((r) => r.name).sort();
        const covered = new Set(cases!.map((c) => c.recipe));
        expect(actions.filter((a) => !covered.has(a)), 'recipes without a case').toEqual([]);
        expect([...covered].filter((a) => !actions.includes(a)), 'cases naming no recipe').toEqual([]);
      });

      it('declares the minimum scopes of the key for every recipe', () => {
        const missing = lint.recipes.filter((r) => !r.scopes?.length).map((r) => r.name);
        expect(missing).toEqual([]);
      });

      it('runs curl as -sS --fail-with-body (quiet, errors exit 22 with the vendor\'s JSON still printed)', () => {
        const off = lint.recipes
          .filter((r) => r.run[0]?.source === 'curl')
          .filter((r) => !r.run.some((t) => t.source === '-sS') || !r.run.some((t) => t.source === '--fail-with-body'))
          .map((r) => r.name);
        expect(off).toEqual([]);
      });

      const hosts = lint.recipes[0]?.hosts ?? [];
      for (const c of cases ?? []) {
        it.concurrent(`${c.recipe}${c.name ? ` (${c.name})` : ''} sends the documented request and prints the response unchanged`, async () => {
          await checkCase(service, hosts, c);
        });
      }
    });
  }
});
