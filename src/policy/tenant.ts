import { sep } from 'node:path';

/** The tenant a working directory belongs to: the one whose project entry is its nearest ancestor. */
export interface TenantBinding {
  tenant: string;
  /** The project directory that decided it. */
  project: string;
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
