/**
 * The hash-chained audit log, audit.jsonl.
 *
 * Contract: one JSON line per record with `ts` (ISO 8601), `id`, `phase`, `project`, `tenant`, `service`,
 * `recipe`, `mode` (exec | run | check | mcp | redact), `decision` (allow | deny | approval_required |
 * error), `code`/`reason` on denial, `exitCode`, `durationMs`, `redactions`, `secretExposed: false`, any
 * extra fields the caller passed, then `prev` and `hash`. It never holds a secret value.
 *
 * An allowed run writes two records with the same id: `phase: "start"` before any secret is read
 * (exitCode null) and `phase: "end"` with the outcome; a denial or check writes one `end` record. The last
 * record of an id is the attempt's state; a start with no end is an attempt that never finished.
 *
 * `hash` is the lowercase hex SHA-256 of the canonical JSON (keys sorted recursively, no whitespace) of
 * the record without `hash`; `prev` is the previous record's hash, 64 zeros for the first.
 */
export type { AuditEntry, AuditRecord, AuditMode, AuditDecision, AuditPhase, VerifyResult } from './types.js';
export { AuditLog, type AuditLogOptions } from './log.js';
export { newAuditId } from './id.js';
export { verifyAuditFile } from './verify.js';
export { canonicalJson, hashRecord, ZERO_HASH } from './canonical.js';
export { summarizeAttempts, formatAuditTable, type AuditAttempt } from './summary.js';
