import { randomBytes } from '../digest.js';
import { join } from 'node:path';
import { JsonStateFile } from '../fs/state-file.js';
import { bool, listOf, num, object, oneOf, recordOf, str } from '../fs/shape.js';
import type { ApprovalRequest, Decision } from '../policy/decide.js';
import type { Approvals, ApprovalStatus } from '../policy/approvals.js';

/**
 * Approval records, shared by every outloop process on the machine: `approvals.json` in the state folder.
 * Read, decided on and updated under one lock, so an approval works exactly once even when two identical
 * calls race for it. Holds what would run (tenant, recipe, params), never a secret.
 */
export interface ApprovalRecord {
  id: string;
  key: string;
  tenant: string;
  service: string;
  recipe: string;
  risk: string;
  params: Record<string, string>;
  recipeSha256: string;
  createdAt: number;
  expiresAt: number;
  ttlMs: number;
  reasonRequired: boolean;
  status: ApprovalStatus;
  decidedAt?: number;
  reason?: string;
}

// Records this long past their expiry are forgotten, so the file stays small.
const FORGET_AFTER_MS = 86_400_000;

const RECORDS = listOf(
  object({
    id: str, key: str, tenant: str, service: str, recipe: str, risk: str, params: recordOf(str), recipeSha256: str,
    createdAt: num, expiresAt: num, ttlMs: num, reasonRequired: bool, status: oneOf('pending', 'approved', 'denied', 'used'),
    'decidedAt?': num, 'reason?': str,
  }),
);

export function newApprovalId(): string {
  return `ap_${randomBytes(5).toString('hex')}`;
}

export class ApprovalStore {
  private readonly state: JsonStateFile<ApprovalRecord[]>;
  constructor(stateDir: string) {
    const file = join(stateDir, 'approvals.json');
    this.state = new JsonStateFile<ApprovalRecord[]>(file, {
      what: 'the approvals',
      code: 'approvals_unavailable',
      next: `Move ${file} aside (pending and given approvals, and denials, are then forgotten), or restore it from a backup.`,
      empty: () => [],
      shape: RECORDS,
    });
  }

  /** Snapshot for `check` and dry runs: no lock, nothing written. */
  peek(): Approvals {
    return snapshot(this.state.read());
  }

  list(): ApprovalRecord[] {
    return this.state.read();
  }

  get(id: string): ApprovalRecord | undefined {
    return this.state.read().find((r) => r.id === id);
  }

  /**
   * Decide with the current records and, under the same lock: mark the approval a run uses as used, or
   * create (or reuse, while one waits) the pending record of a request that needs approval. The returned
   * decision of an approval_required request carries the record's id in `approval.pendingId`.
   */
  async settle(now: number, decideWith: (approvals: Approvals) => Promise<Decision>): Promise<Decision> {
    return this.state.locked(async () => {
      const records = this.state.read();
      const decision = await decideWith(snapshot(records));
      let changed = false;
      if (decision.allow && decision.plan.approval) {
        const used = records.find((r) => r.id === decision.plan.approval!.id);
        if (used) {
          used.status = 'used';
          used.decidedAt ??= now;
          changed = true;
        }
      } else if (!decision.allow && decision.code === 'approval_required' && decision.approval) {
        const a = decision.approval;
        if (!a.pendingId) {
          const rec = pendingRecord(a, now);
          records.push(rec);
          decision.approval = { ...a, pendingId: rec.id };
          changed = true;
        }
      }
      if (changed) this.state.write(records.filter((r) => r.expiresAt > now - FORGET_AFTER_MS));
      return decision;
    });
  }

  /** A person's answer: only a pending, unexpired record changes. Returns the record as it now is. */
  async decide(id: string, status: 'approved' | 'denied', now: number, reason: string | undefined): Promise<ApprovalRecord> {
    return this.state.locked(() => {
      const records = this.state.read();
      const rec = records.find((r) => r.id === id);
      if (!rec || rec.status !== 'pending' || now > rec.expiresAt) throw new Error('not pending');
      rec.status = status;
      rec.decidedAt = now;
      // An approval stays usable for the grant's TTL from the moment it is given.
      if (status === 'approved') rec.expiresAt = now + rec.ttlMs;
      if (reason !== undefined) rec.reason = reason;
      this.state.write(records);
      return rec;
    });
  }
}

function pendingRecord(a: ApprovalRequest, now: number): ApprovalRecord {
  return {
    id: newApprovalId(),
    key: a.key,
    tenant: a.tenant,
    service: a.service,
    recipe: a.recipe,
    risk: a.risk,
    params: a.params,
    recipeSha256: a.recipeSha256,
    createdAt: now,
    expiresAt: now + a.ttlMs,
    ttlMs: a.ttlMs,
    reasonRequired: a.reasonRequired,
    status: 'pending',
  };
}

/** The newest record of each request key: the one that decides. */
function snapshot(records: readonly ApprovalRecord[]): Approvals {
  const out: Record<string, { id: string; status: ApprovalStatus; expiresAt: number }> = {};
  for (const r of records) out[r.key] = { id: r.id, status: r.status, expiresAt: r.expiresAt };
  return out;
}
