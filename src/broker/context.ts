import { cacheKeyFor } from '../audit/install.js';
import { ParseCache } from '../config/cache.js';
import { checkConfigHome } from '../config/home-guard.js';
import { loadConfig, projectsAround, realOrResolved, type LoadedConfig } from '../config/load.js';
import type { Homes } from '../paths.js';
import { resolveTenant, type TenantBinding } from '../policy/tenant.js';
import { recipeDirs } from '../recipe/load.js';
import { systemContext } from '../system/mode.js';

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

/** `guard: false` is for doctor only: it reports an unsafe config home, then still looks at the rest. */
export async function loadRequestContext(e: Environment, o: { guard?: boolean } = {}): Promise<RequestContext> {
  // Policy comes only from files no other user could swap, and from the config this state was set up with.
  if (o.guard !== false) checkConfigHome(e.homes);
  // System mode: the config folder is root's, so the daemon keeps its parse cache in its own state folder.
  const cache = ParseCache.forConfigDir(systemContext() ? e.homes.stateDir : e.homes.configDir, () => cacheKeyFor(e.homes.stateDir, e.homes.auditFile));
  let config = await loadConfig(e.homes.configFile, e.env, cache);
  // System mode (the daemon's worker): every child sandboxed, whatever the grant says.
  if (systemContext()) {
    const { sandboxEverything } = await import('../system/harden.js');
    config = { ...config, config: sandboxEverything(config.config) };
  }
  const cwd = realOrResolved(e.cwd);
  const binding = resolveTenant(cwd, projectsAround(cwd, config));
  const peer = systemContext()?.peer;
  // System mode: a caller whose OS user a tenant lists is bound to it (policy/tenant.ts checks the folder).
  const user = peer && binding && Object.values(config.config.tenants).some((t) => t.users?.length)
    ? (await import('../system/users.js')).userTenant(config.config, peer.uid, config.file)
    : undefined;
  return {
    config,
    cwd,
    binding: user && binding ? { ...binding, user } : binding,
    recipeDirs: recipeDirs(e.builtinRecipesDir, e.homes.recipesDir, config.recipePaths),
    cache,
  };
}
