import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, formatAuditTable, summarizeAttempts, verifyAuditFile, type AuditRecord } from '../audit/index.js';
import { existingChainKey } from '../audit/install.js';
import { recordsSince, tailAttempts } from '../audit/tail.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, installKey, keyInUse } from '../audit/fingerprint.js';
import { resolveHomes } from '../paths.js';
import { writeJson } from './output.js';
import { readSecretValue } from './prompt.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/suggest.js';

export interface AuditFilters {
  tenant?: string;
  service?: string;
  decision?: string;
  /** An instant (2026-12-01T00:00:00Z) or a duration back from now (1h, 7d). */
  since?: string;
}

export const AUDIT_DECISIONS = ['allow', 'deny', 'approval_required', 'error'] as const;

/**
 * The audit filters as one predicate over records. An attempt is shown when one of its records matches
 * every filter; --decision looks at end records only (the start record is written before the decision).
 */
export function auditFilter(f: AuditFilters, now = Date.now()): (r: AuditRecord) => boolean {
  let since: number | undefined;
  if (f.since !== undefined) {
    const ms = parseDuration(f.since);
    since = ms !== undefined ? now - ms : Date.parse(f.since);
    if (Number.isNaN(since)) throw new UsageError(`--since ${JSON.stringify(f.since)} is neither a time (2026-12-01T00:00:00Z) nor a duration back from now (30m, 1h, 7d)`);
  }
  if (f.decision !== undefined && !(AUDIT_DECISIONS as readonly string[]).includes(f.decision)) {
    throw new UsageError(`--decision must be one of ${AUDIT_DECISIONS.join(', ')}${didYouMean(f.decision, AUDIT_DECISIONS)}`);
  }
  return (r) =>
    (f.tenant === undefined || r.tenant === f.tenant) &&
    (f.service === undefined || r.service === f.service) &&
    (f.decision === undefined || (r.phase === 'end' && r.decision === f.decision)) &&
    (since === undefined || Date.parse(r.ts) >= since);
}

/** Every record of the attempts that have a record matching. */
function matchingAttempts(records: AuditRecord[], match: (r: AuditRecord) => boolean): AuditRecord[] {
  const ids = new Set(records.filter(match).map((r) => r.id));
  return records.filter((r) => ids.has(r.id));
}

export async function showCommand(o: { json?: boolean; follow?: boolean; limit?: number } & AuditFilters): Promise<number> {
  const file = resolveHomes(process.env).auditFile;
  const match = auditFilter(o);
  const filtered = o.tenant !== undefined || o.service !== undefined || o.decision !== undefined || o.since !== undefined;
  const print = (recs: AuditRecord[]) => {
    if (o.json) for (const r of recs) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (recs.length) process.stdout.write(`${formatAuditTable(summarizeAttempts(recs)).trimEnd()}\n`);
  };
  // -n reads the tail backwards; --follow without -n starts from the last 10 attempts, like tail -f, so
  // neither costs more on a longer log. A plain `outloop audit`, and a filtered one (the matches may lie
  // anywhere), read it all.
  const limit = o.limit && o.limit > 0 ? o.limit : o.follow ? 10 : undefined;
  let shown: AuditRecord[];
  let offset: number;
  if (limit === undefined || filtered) {
    const all = recordsSince(file, 0);
    shown = filtered ? matchingAttempts(all.records, match) : all.records;
    if (limit !== undefined) {
      const keep = new Set([...new Set(shown.map((r) => r.id))].slice(-limit));
      shown = shown.filter((r) => keep.has(r.id));
    }
    offset = all.end;
  } else {
    const tail = tailAttempts(file, limit);
    shown = tail.records;
    offset = tail.end;
  }
  if (!shown.length && !o.follow && !o.json) process.stdout.write(filtered ? `No audit records match (${file}).\n` : `No audit records yet (${file}).\n`);
  print(shown);
  if (!o.follow) return 0;
  // Follow like `tail -f`: poll for lines past the last whole line read.
  for (;;) {
    await sleep(500);
    const fresh = recordsSince(file, offset);
    offset = fresh.end;
    const recs = filtered ? fresh.records.filter(match) : fresh.records;
    if (!recs.length) continue;
    if (o.json) print(recs);
    else for (const r of recs) process.stdout.write(`${formatAuditTable(summarizeAttempts([r])).trimEnd().split('\n').slice(1).join('\n')}\n`);
  }
}

export async function verifyCommand(o: { json?: boolean }): Promise<number> {
  const homes = resolveHomes(process.env);
  const file = homes.auditFile;
  const res = verifyAuditFile(file, { chainKey: existingChainKey(homes.stateDir, file) });
  if (o.json) writeJson({ file, ...res });
  else if (res.ok) {
    const kind = res.keyed ? (res.keyed === res.records ? ', keyed (HMAC-SHA256)' : `, ${res.keyed} keyed (HMAC-SHA256), ${res.records - res.keyed} older unkeyed`) : '';
    process.stdout.write(`ok: ${res.records} record${res.records === 1 ? '' : 's'}, hash chain intact${kind} (${file})\n`);
  } else if (res.firstBad) {
    const b = res.firstBad;
    process.stdout.write(`BROKEN at line ${b.line}${b.id ? ` (${b.id})` : ''}: ${b.problem}\n${file}: ${res.records} record(s) read\n`);
  } else {
    process.stdout.write(`TAMPERED: ${res.tampered}\n${file}: ${res.records} record(s) read, each linked to the one before\n`);
  }
  return res.ok ? 0 : 1;
}

/**
 * "Was this key used?": the value comes from stdin or a hidden prompt (never argv), is fingerprinted
 * with this install's key, and matched against the fingerprints in the log. Exit 0 when found, 1 when
 * no recorded attempt used it.
 */
export async function lookupCommand(o: { json?: boolean }): Promise<number> {
  const homes = resolveHomes(process.env);
  const log = new AuditLog(homes.auditFile);
  // No key yet means no run has ever read a secret: nothing can match, and no key is created by asking.
  // A key deleted after use is not "no match": installKey refuses, naming the records made under it.
  const fp = existsSync(join(homes.stateDir, 'audit.key')) || keyInUse(homes.auditFile) ? fingerprint(installKey(homes.stateDir, { auditFile: homes.auditFile }), await readSecretValue('the value to look up')) : undefined;
  const used = (r: AuditRecord) => Array.isArray(r.secrets) && r.secrets.some((s: { fingerprint?: string }) => fp !== undefined && s.fingerprint === fp);
  const hits = log.readAll().filter(used);
  if (o.json) writeJson({ found: hits.length > 0, attempts: hits });
  else if (hits.length) process.stdout.write(`${formatAuditTable(summarizeAttempts(hits)).trimEnd()}\n`);
  else process.stdout.write('No recorded attempt used this value.\n');
  return hits.length ? 0 : 1;
}
