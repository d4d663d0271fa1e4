import type { RequestContext } from '../broker/context.js';
import type { ParseCache } from '../config/cache.js';
import { grantAllows } from '../policy/guardrails.js';
import { loadService, serviceNames, type LoadedRecipe } from './load.js';

export { serviceNames };

/**
 * What exists and what this folder's tenant may run: the catalogue behind `outloop recipes list` and the
 * MCP tool list.
 */
/** Every service found in the recipe folders, later folders overriding earlier ones per action. */
export async function allRecipes(dirs: string[], cache?: ParseCache): Promise<LoadedRecipe[]> {
  const services = serviceNames(dirs);
  // The parse cache matters here: the built-in library is a dozen files, linted on every list otherwise.
  const loaded = await Promise.all(services.map((s) => loadService(s, dirs, cache)));
  return loaded.flatMap((l) => [...(l?.recipes.values() ?? [])]);
}

/** Does the tenant of this folder have a grant that allows the recipe? (The tool list; decide() rules.) */
export function grantChecker(ctx: RequestContext): (r: LoadedRecipe) => boolean {
  const tenant = ctx.binding?.tenant;
  const grants = tenant ? ctx.config.config.tenants[tenant]?.services ?? {} : {};
  return (r) => {
    const g = Object.hasOwn(grants, r.service) ? grants[r.service] : undefined;
    return Boolean(g && grantAllows(g, r));
  };
}

