import { sha256Hex } from '../digest.js';
import type { ServiceGrant } from '../config/schema.js';
import { parseDuration } from '../util/duration.js';
import type { Risk } from './guardrails.js';

/**
 * Approvals: a grant can make some recipes (`approve: [refund]`) or every recipe at or above a risk
 * (`approve: { risk: write }`) wait for a person. Pure: the broker keeps the records (src/broker/approvals.ts,
 * under a lock) and hands decide() a snapshot, as it does for budgets.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used';

/** What decide() needs to know about the newest approval record of one request key. */
export interface ApprovalState {
  id: string;
  status: ApprovalStatus;
  /** ms since the epoch; expired when now > expiresAt. */
  expiresAt: number;
}

/** Request key -> the newest approval record for it. */
export type Approvals = Readonly<Record<string, ApprovalState>>;

export const DEFAULT_APPROVAL_TTL_MS = 15 * 60_000;
const RISK_RANK: Readonly<Record<Risk, number>> = { read: 0, write: 1, admin: 2 };

/** Does this grant make this recipe wait for a person? */
export function needsApproval(grant: Pick<ServiceGrant, 'approve'>, recipe: { name: string; risk: Risk }): boolean {
  const a = grant.approve;
  if (a === undefined) return false;
  if (Array.isArray(a)) return a.includes(recipe.name);
  return RISK_RANK[recipe.risk] >= RISK_RANK[a.risk];
}

/** How long an approval (and a pending request) stays usable. */
export function approvalTtlMs(grant: Pick<ServiceGrant, 'approvalTtl'>): number {
  return (grant.approvalTtl === undefined ? undefined : parseDuration(grant.approvalTtl)) ?? DEFAULT_APPROVAL_TTL_MS;
}

/**
 * What an approval is bound to: tenant, service, recipe, the validated parameters and the recipe file's
 * content. sha256 of canonical JSON (keys sorted), so parameter order does not matter and any change does.
 */
export function approvalKey(tenant: string, service: string, recipe: string, params: Readonly<Record<string, string>>, recipeSha256: string): string {
  const sorted = Object.fromEntries(Object.keys(params).sort().map((k) => [k, params[k]]));
  const canonical = JSON.stringify([tenant, service, recipe, sorted, recipeSha256]);
  return sha256Hex(canonical);
}

export type ApprovalVerdict =
  | { kind: 'approved'; id: string }
  | { kind: 'denied'; id: string }
  /** Nothing usable: a new pending request is needed, or `id`, the one still waiting. */
  | { kind: 'required'; pendingId?: string };

/** The gate itself, for one request key and the snapshot's record of it (if any). */
export function approvalVerdict(state: ApprovalState | undefined, now: number): ApprovalVerdict {
  if (!state || now > state.expiresAt) return { kind: 'required' };
  switch (state.status) {
    case 'approved':
      return { kind: 'approved', id: state.id };
    case 'denied':
      return { kind: 'denied', id: state.id };
    case 'pending':
      return { kind: 'required', pendingId: state.id };
    case 'used':
      return { kind: 'required' };
  }
}
