/**
 * The audit record shapes. One JSON line per record in audit.jsonl; see index.ts for the contract.
 * No field may ever hold a secret value: callers pass names, codes and counts, never what was resolved.
 */

export type AuditMode = 'exec' | 'run' | 'check' | 'mcp' | 'redact' | 'approve' | 'system';
export type AuditDecision = 'allow' | 'deny' | 'approval_required' | 'error';
export type AuditPhase = 'start' | 'end';

/** What a caller supplies. Extra fields (phase-specific details such as `params`, `argv`) are kept as given. */
export interface AuditEntry {
  id: string;
  ts?: string;
  phase: AuditPhase;
  mode: AuditMode;
  project: string | null;
  tenant: string | null;
  service: string | null;
  recipe: string | null;
  decision: AuditDecision;
  code?: string;
  reason?: string;
  exitCode: number | null;
  durationMs: number | null;
  redactions: number;
  [extra: string]: unknown;
}

/** What is written: the entry plus the fields the log owns. */
export interface AuditRecord extends AuditEntry {
  ts: string;
  secretExposed: false;
  prev: string;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Lines in the file, each one record or a damaged attempt at one. */
  records: number;
  /** How many of them carry the keyed link (HMAC-SHA256); the rest are the original unkeyed kind. */
  keyed?: number;
  firstBad?: { line: number; id?: string; problem: string };
  /** Every record links, but the log does not reach its head: truncated, emptied, removed or rewritten. */
  tampered?: string;
}
