import type { Config } from '../config/schema.js';
import { grantExpired } from './guardrails.js';
import { tenantGates, type TenantBinding } from './tenant.js';

/**
 * The policy decision for `outloop redact` (a stdin-to-stdout filter): pure, like decide(), and like it
 * imports no backend. Which values the filter may read is policy, decided before any is read:
 *
 * - In a project bound to a tenant: the values of that tenant's own grants (every live grant, or only the
 *   `--service` ones), never another tenant's. Reading them exposes nothing (they only ever leave as
 *   `[REDACTED:NAME]`), but it is still a backend call, so it waits for the same tenant gates as exec.
 * - Outside every project: no values, the shape rules alone. That is not a denial: a filter for logs from
 *   anywhere is useful, and it can read nothing.
 * - `--tenant` (or `--service`) outside every project is a denial, not a quiet downgrade to shapes only: the
 *   caller expected a tenant's values to be masked, and would get output that looks redacted but is not.
 */
export type RedactDenyCode = 'no_tenant' | 'wrong_tenant' | 'service_not_granted';

export interface RedactRequest {
  /** --service: only these grants' values (default: every live grant of the tenant). */
  services: string[];
  assertedTenant?: string | undefined;
  cwd: string;
}

export interface RedactContext {
  binding: TenantBinding | null;
  tenants: Config['tenants'];
  configFile: string;
  now?: number;
}

export interface RedactPlan {
  tenant: string | null;
  project: string | null;
  /** Service -> (logical name -> reference as written): what is read, grant by grant. */
  secretRefs: Record<string, Record<string, string>>;
}

export type RedactDecision =
  | { allow: true; plan: RedactPlan }
  | { allow: false; code: RedactDenyCode; reason: string; next: string };

export function decideRedact(req: RedactRequest, ctx: RedactContext): RedactDecision {
  if (!ctx.binding && req.assertedTenant === undefined && req.services.length === 0) {
    return { allow: true, plan: { tenant: null, project: null, secretRefs: {} } };
  }
  const t = tenantGates(ctx.binding, req.assertedTenant, req.cwd, ctx.configFile);
  if (!t.ok) {
    const next = t.code === 'no_tenant'
      ? `${t.next} Without --tenant and --service, outloop redact outside a project applies the secret-shape rules alone.`
      : t.next;
    return { allow: false, code: t.code, reason: t.reason, next };
  }
  const { tenant, project } = t.binding;
  const grants = ctx.tenants[tenant]?.services ?? {};
  const now = ctx.now ?? Date.now();
  const secretRefs: RedactPlan['secretRefs'] = {};
  for (const service of req.services) {
    if (!Object.hasOwn(grants, service)) {
      return { allow: false, code: 'service_not_granted', reason: `tenant "${tenant}" has no grant for service "${service}"`,
        next: `Drop --service ${service}, or ask a person to add tenants.${tenant}.services.${service} to ${ctx.configFile}.` };
    }
  }
  for (const [service, grant] of Object.entries(grants)) {
    if (req.services.length > 0 && !req.services.includes(service)) continue;
    // An ended grant's values are no longer this tenant's to read, even to mask them.
    if (grantExpired(grant, now)) continue;
    if (Object.keys(grant.secrets).length > 0) secretRefs[service] = { ...grant.secrets };
  }
  return { allow: true, plan: { tenant, project, secretRefs } };
}
