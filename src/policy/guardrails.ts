import type { ParamLimit, ServiceGrant } from '../config/schema.js';
import { checkValue, type ParamFailure } from '../recipe/params.js';
import type { ParamSpec } from '../recipe/schema.js';

/**
 * What a grant says about one recipe, beyond "is the service granted": deny rules, the allow list with
 * per-recipe expiry, the whole grant's expiry, the risk ceiling, and parameter limits that narrow the
 * recipe's own. Pure: the caller passes the time. decide() turns a refusal into a denial with its message;
 * the tool catalogue uses grantAllows() so it lists exactly what decide() would permit.
 */
export type Risk = 'read' | 'write' | 'admin';
const RISK_RANK: Readonly<Record<Risk, number>> = { read: 0, write: 1, admin: 2 };

export type GrantRefusal =
  | { code: 'grant_expired'; scope: 'grant' | 'recipe'; until: string }
  | { code: 'recipe_denied'; rule: string; reason: string }
  | { code: 'recipe_not_allowed' }
  | { code: 'risk_not_allowed'; maxRisk: Risk };

/** The whole grant has ended (its `until` has passed), or undefined. */
export function grantExpired(grant: Pick<ServiceGrant, 'until'>, now: number): Extract<GrantRefusal, { code: 'grant_expired' }> | undefined {
  return grant.until !== undefined && now >= Date.parse(grant.until) ? { code: 'grant_expired', scope: 'grant', until: grant.until } : undefined;
}

/** May this grant run this recipe now? Deny rules win over allow; then allow and its expiry; then risk. */
export function recipeRefusal(grant: Pick<ServiceGrant, 'allow' | 'deny' | 'maxRisk'>, recipe: { name: string; risk: Risk }, now: number): GrantRefusal | undefined {
  for (const rule of [recipe.name, '*']) {
    if (Object.hasOwn(grant.deny, rule)) return { code: 'recipe_denied', rule, reason: grant.deny[rule]! };
  }
  const entry = grant.allow.find((a) => (typeof a === 'string' ? a === '*' || a === recipe.name : a.recipe === recipe.name));
  if (entry === undefined) return { code: 'recipe_not_allowed' };
  if (typeof entry !== 'string' && entry.until !== undefined && now >= Date.parse(entry.until)) return { code: 'grant_expired', scope: 'recipe', until: entry.until };
  if (grant.maxRisk !== undefined && RISK_RANK[recipe.risk] > RISK_RANK[grant.maxRisk]) return { code: 'risk_not_allowed', maxRisk: grant.maxRisk };
  return undefined;
}

export function grantAllows(grant: ServiceGrant, recipe: { name: string; risk: Risk }, now: number = Date.now()): boolean {
  return !grantExpired(grant, now) && !recipeRefusal(grant, recipe, now);
}

/** The allow list as people write it, for messages: `list-invoices, refund (until ...)`. */
export function describeAllow(grant: Pick<ServiceGrant, 'allow'>): string {
  const extra = (a: { until?: string | undefined; rate?: string | undefined }) => [a.until && `until ${a.until}`, a.rate].filter(Boolean).join(', ');
  return grant.allow.map((a) => (typeof a === 'string' ? a : `${a.recipe}${extra(a) ? ` (${extra(a)})` : ''}`)).join(', ') || 'nothing';
}

// ---------------------------------------------------------------------------------------------------------
// Budgets. A budget counts allowed calls in a sliding window; the broker keeps the counts (across
// processes, under a lock) and hands decide() a snapshot, so the decision itself stays pure.

export interface Budget {
  /** Where the count is kept: tenant:T, service:T/S or recipe:T/S.R. */
  key: string;
  limit: number;
  windowMs: number;
  /** For messages: `service stripe of tenant acme: 60/h`. */
  label: string;
}

/** Allowed calls on record per budget key: their times, oldest first. */
export type Usage = Readonly<Record<string, readonly number[]>>;

const WINDOW_MS = { min: 60_000, h: 3_600_000, day: 86_400_000 } as const;
/** The longest window any budget can have: older call times can be forgotten. */
export const LONGEST_WINDOW_MS = WINDOW_MS.day;

export function parseRate(rate: string): { limit: number; windowMs: number } {
  const [count, unit] = rate.split('/') as [string, keyof typeof WINDOW_MS];
  return { limit: Number(count), windowMs: WINDOW_MS[unit] };
}

/** The budgets a request of this tenant, service and recipe counts against (none when unconfigured). */
export function budgetsFor(tenant: string, tenantRate: string | undefined, service: string, grant: ServiceGrant | undefined, recipe: string): Budget[] {
  const out: Budget[] = [];
  const add = (key: string, rate: string | undefined, label: string) => {
    if (rate) out.push({ key, label: `${label}: ${rate}`, ...parseRate(rate) });
  };
  add(`tenant:${tenant}`, tenantRate, `tenant ${tenant}`);
  add(`service:${tenant}/${service}`, grant?.rate, `service ${service} of tenant ${tenant}`);
  const entry = grant?.allow.find((a): a is Exclude<typeof a, string> => typeof a !== 'string' && a.recipe === recipe);
  add(`recipe:${tenant}/${service}.${recipe}`, entry?.rate, `${service}.${recipe} of tenant ${tenant}`);
  return out;
}

/** The first budget already spent in its window, and when a call will fit again. */
export function budgetRefusal(budgets: readonly Budget[], usage: Usage, now: number): { budget: Budget; retryAt: number } | undefined {
  for (const b of budgets) {
    const inWindow = (usage[b.key] ?? []).filter((t) => t > now - b.windowMs);
    if (inWindow.length >= b.limit) return { budget: b, retryAt: inWindow[inWindow.length - b.limit]! + b.windowMs };
  }
  return undefined;
}

/**
 * A validated value that the grant's own limits refuse. The recipe's rules already passed; these can only
 * narrow them, so each limit is checked on its own with the recipe parameter's type.
 */
export function paramLimitFailure(limits: Readonly<Record<string, ParamLimit>>, specs: Readonly<Record<string, ParamSpec>>, values: Readonly<Record<string, string>>): ParamFailure | undefined {
  for (const [name, limit] of Object.entries(limits)) {
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (!spec || value === undefined) continue;
    const r = checkValue(name, { type: spec.type, ...limit }, value);
    if (typeof r !== 'string') return r;
  }
  return undefined;
}
