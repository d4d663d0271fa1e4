import { ParseCache } from '../config/cache.js';
import { loadConfig, projectsAround, realOrResolved, type LoadedConfig } from '../config/load.js';
import type { Homes } from '../paths.js';
import { resolveTenant, type TenantBinding } from '../policy/tenant.js';
import { recipeDirs } from '../recipe/load.js';

/** Everything a request is decided against, read from disk once per request. */
export interface RequestContext {
  config: LoadedConfig;
  cwd: string;
  binding: TenantBinding | null;
  recipeDirs: string[];
  cache: ParseCache;
}

export interface Environment {
  homes: Homes;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The package's own recipes/ folder. */
  builtinRecipesDir: string;
}

export async function loadRequestContext(e: Environment): Promise<RequestContext> {
  const cache = ParseCache.forConfigDir(e.homes.configDir);
  const config = await loadConfig(e.homes.configFile, e.env, cache);
  const cwd = realOrResolved(e.cwd);
  return {
    config,
    cwd,
    binding: resolveTenant(cwd, projectsAround(cwd, config)),
    recipeDirs: recipeDirs(e.builtinRecipesDir, e.homes.recipesDir, config.recipePaths),
    cache,
  };
}
