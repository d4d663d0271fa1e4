import { loadConfig, realOrResolved, type LoadedConfig } from '../config/load.js';
import type { Homes } from '../paths.js';
import { resolveTenant, type TenantBinding } from '../policy/tenant.js';
import { recipeDirs } from '../recipe/load.js';

/** Everything a request is decided against, read from disk once per request. */
export interface RequestContext {
  config: LoadedConfig;
  cwd: string;
  binding: TenantBinding | null;
  recipeDirs: string[];
}

export interface Environment {
  homes: Homes;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The package's own recipes/ folder. */
  builtinRecipesDir: string;
}

export function loadRequestContext(e: Environment): RequestContext {
  const config = loadConfig(e.homes.configFile, e.env);
  const cwd = realOrResolved(e.cwd);
  return {
    config,
    cwd,
    binding: resolveTenant(cwd, config.projects),
    recipeDirs: recipeDirs(e.builtinRecipesDir, e.homes.recipesDir, config.recipePaths),
  };
}
