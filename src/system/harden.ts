import type { Config } from '../config/schema.js';

/**
 * System mode's one change to the policy it reads: every child is sandboxed. Children (exec's recipes,
 * run's wrapped command) run as the daemon's user, which owns the store and its key; only inside bwrap,
 * with the state folder out of sight, is that safe. So `auto` and `off` both count as `required` here:
 * no sandbox, no run. Returns a copy; the parsed (possibly cached) config is left alone.
 */
export function sandboxEverything(config: Config): Config {
  const tenants: Config['tenants'] = {};
  for (const [name, t] of Object.entries(config.tenants)) {
    const services: typeof t.services = {};
    for (const [svc, g] of Object.entries(t.services ?? {})) services[svc] = { ...g, sandbox: 'required' };
    tenants[name] = { ...t, sandbox: 'required', services };
  }
  return { ...config, tenants };
}
