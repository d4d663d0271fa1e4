import { sep } from 'node:path';

/** The tenant a working directory belongs to: the one whose project entry is its nearest ancestor. */
export interface TenantBinding {
  tenant: string;
  /** The project directory that decided it. */
  project: string;
  /**
   * System mode: the caller's OS user is listed under a tenant's `users` (its uid as the kernel gave it
   * to the daemon), which binds every request of theirs to that tenant, whatever folder they name.
   */
  user?: { name: string; tenant: string };
}

export function resolveTenant(cwd: string, projects: ReadonlyArray<{ tenant: string; path: string }>): TenantBinding | null {
  let best: { tenant: string; path: string } | undefined;
  for (const p of projects) {
    if (!isWithin(cwd, p.path)) continue;
    if (!best || p.path.length > best.path.length) best = p;
  }
  return best ? { tenant: best.tenant, project: best.path } : null;
}

/** `/a/bc` is not within `/a/b`: compare whole path segments. */
export function isWithin(child: string, parent: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(prefix);
}

/**
 * The first two gates of every request (exec, check, run): the working directory must belong to a tenant,
 * and a tenant the caller asserts must be that one. One wording for every way in.
 */
export type TenantGates =
  | { ok: true; binding: TenantBinding; passed: { name: 'tenant' | 'assertion'; detail: string }[] }
  | { ok: false; gate: 'tenant' | 'assertion'; code: 'no_tenant' | 'wrong_tenant'; reason: string; next: string; passed: { name: 'tenant' | 'assertion'; detail: string }[] };

export function tenantGates(binding: TenantBinding | null, assertedTenant: string | undefined, cwd: string, configFile: string): TenantGates {
  if (!binding) {
    return { ok: false, gate: 'tenant', code: 'no_tenant', passed: [], reason: `${cwd} is not inside any project bound to a tenant`,
      next: `Run from a project folder listed under tenants.<name>.projects in ${configFile}, or ask a person to add this folder there.` };
  }
  const passed: { name: 'tenant' | 'assertion'; detail: string }[] = [{ name: 'tenant', detail: `${binding.tenant} (project ${binding.project})` }];
  const user = binding.user;
  // The caller's own words (the folder, --tenant) cannot move a bound user to another tenant's project.
  if (user && user.tenant !== binding.tenant) {
    return { ok: false, gate: 'assertion', code: 'wrong_tenant', passed,
      reason: `this project belongs to tenant "${binding.tenant}", but requests from OS user ${user.name} are bound to tenant "${user.tenant}" (tenants.${user.tenant}.users)`,
      next: `Stop: ${user.name} works for "${user.tenant}" only. Run "${user.tenant}"'s recipes from a "${user.tenant}" project; a person changes tenants.<name>.users in ${configFile} if this user now works for "${binding.tenant}".` };
  }
  if (assertedTenant !== undefined && assertedTenant !== binding.tenant) {
    return { ok: false, gate: 'assertion', code: 'wrong_tenant', passed,
      reason: `this project belongs to tenant "${binding.tenant}", but the request asserts tenant "${assertedTenant}"`,
      next: `Stop: this looks like a skill or script written for "${assertedTenant}" running in a "${binding.tenant}" project. Use "${binding.tenant}"'s own recipes here, or run from a "${assertedTenant}" project.` };
  }
  const asserted = assertedTenant === undefined ? 'none asserted' : `asserted ${assertedTenant}, matches`;
  passed.push({ name: 'assertion', detail: user ? `${asserted}; OS user ${user.name} is bound to ${user.tenant}` : asserted });
  return { ok: true, binding, passed };
}
