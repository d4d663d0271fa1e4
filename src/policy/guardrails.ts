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
  if (typeof entry !== 'string' && now >= Date.parse(entry.until)) return { code: 'grant_expired', scope: 'recipe', until: entry.until };
  if (grant.maxRisk !== undefined && RISK_RANK[recipe.risk] > RISK_RANK[grant.maxRisk]) return { code: 'risk_not_allowed', maxRisk: grant.maxRisk };
  return undefined;
}

export function grantAllows(grant: ServiceGrant, recipe: { name: string; risk: Risk }, now: number = Date.now()): boolean {
  return !grantExpired(grant, now) && !recipeRefusal(grant, recipe, now);
}

/** The allow list as people write it, for messages: `list-invoices, refund (until ...)`. */
export function describeAllow(grant: Pick<ServiceGrant, 'allow'>): string {
  return grant.allow.map((a) => (typeof a === 'string' ? a : `${a.recipe} (until ${a.until})`)).join(', ') || 'nothing';
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
