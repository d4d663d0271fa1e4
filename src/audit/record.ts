import { hashRecord, isHash } from './canonical.js';
import { KEYED_CHAIN, keyedLine } from './chain.js';
import type { AuditEntry, AuditRecord } from './types.js';

const PHASES = new Set(['start', 'end']);
const MODES = new Set(['exec', 'run', 'check', 'mcp', 'redact', 'approve', 'system']);
const DECISIONS = new Set(['allow', 'deny', 'approval_required', 'error']);

/** Why an entry cannot be written as given, or undefined if it can. */
export function entryProblem(entry: AuditEntry): string | undefined {
  if (typeof entry.id !== 'string' || entry.id === '') return 'id must be a non-empty string';
  if (!PHASES.has(entry.phase)) return `unknown phase ${JSON.stringify(entry.phase)}`;
  if (!MODES.has(entry.mode)) return `unknown mode ${JSON.stringify(entry.mode)}`;
  if (!DECISIONS.has(entry.decision)) return `unknown decision ${JSON.stringify(entry.decision)}`;
  return undefined;
}

/**
 * The record to write after `prev`. Contract fields come first so a person reading the raw line sees them
 * first; caller extras follow; the log's own fields are last and cannot be overridden by an extra.
 */
export function buildRecord(entry: AuditEntry, prev: string, key?: Buffer, now: Date = new Date()): { record: AuditRecord; text: string } {
  const {
    ts, id, phase, project, tenant, service, recipe, mode, decision, code, reason, exitCode, durationMs, redactions,
    secretExposed: _secretExposed, chain: _chain, prev: _prev, hash: _hash,
    ...extras
  } = entry;
  const ordered = {
    ts: ts ?? isoUtc(now),
    id, phase, project, tenant, service, recipe, mode, decision, code, reason, exitCode, durationMs, redactions,
    ...extras,
    secretExposed: false,
    ...(key ? { chain: KEYED_CHAIN } : {}),
    prev,
  };
  if (key) {
    // The MAC covers the bytes written; the record returned is what a reader parses back from them.
    const { line } = keyedLine(key, JSON.stringify(ordered));
    return { record: JSON.parse(line) as AuditRecord, text: line };
  }
  // Hash exactly what a reader will parse back: a JSON round trip drops undefined members and applies toJSON.
  const plain = JSON.parse(JSON.stringify(ordered)) as Record<string, unknown>;
  plain.hash = hashRecord(plain);
  return { record: plain as AuditRecord, text: JSON.stringify(plain) };
}

export type ParsedLine = { record: AuditRecord } | { problem: string; id?: string };

/** Parse one line of audit.jsonl far enough to chain on it; the hash itself is checked by verify. */
export function parseRecordLine(text: string): ParsedLine {
  if (text.trim() === '') return { problem: 'empty line' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'not an audit record' };
  const obj = value as Record<string, unknown>;
  const id = typeof obj.id === 'string' ? obj.id : undefined;
  const missing = ['hash', 'prev'].find((key) => !isHash(obj[key]));
  if (missing) return { problem: `not an audit record: no valid ${missing}`, ...(id === undefined ? {} : { id }) };
  return { record: obj as AuditRecord };
}

/**
 * d.toISOString(), the same text. V8 loads the local time zone (/etc/localtime, ~0.25 ms) on the first
 * toISOString of a process, which UTC fields never need; every exec writes a record before its child starts.
 */
export function isoUtc(d: Date): string {
  const y = d.getUTCFullYear();
  // Outside 0000-9999 (and an invalid date) toISOString has its own form, or throws: leave those to it.
  if (!(y >= 0 && y <= 9999)) return d.toISOString();
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${p(y, 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}Z`;
}
