import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, formatAuditTable, summarizeAttempts, verifyAuditFile, type AuditRecord } from '../audit/index.js';
import { resolveHomes } from '../paths.js';
import { writeJson } from './output.js';

export async function showCommand(o: { json?: boolean; follow?: boolean; limit?: number }): Promise<number> {
  const file = resolveHomes(process.env).auditFile;
  const log = new AuditLog(file);
  let records = log.readAll();
  const print = (recs: AuditRecord[]) => {
    if (o.json) for (const r of recs) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (recs.length) process.stdout.write(`${formatAuditTable(summarizeAttempts(recs)).trimEnd()}\n`);
  };
  let shown = records;
  if (o.limit && o.limit > 0) {
    const ids = [...new Set(records.map((r) => r.id))].slice(-o.limit);
    const keep = new Set(ids);
    shown = records.filter((r) => keep.has(r.id));
  }
  if (!shown.length && !o.follow && !o.json) process.stdout.write(`No audit records yet (${file}).\n`);
  print(shown);
  if (!o.follow) return 0;
  // Follow like `tail -f`: poll for new lines; records are append-only, so the count is a cursor.
  for (;;) {
    await sleep(500);
    const now = log.readAll();
    if (now.length > records.length) {
      const fresh = now.slice(records.length);
      if (o.json) print(fresh);
      else for (const r of fresh) process.stdout.write(`${formatAuditTable(summarizeAttempts([r])).trimEnd().split('\n').slice(1).join('\n')}\n`);
      records = now;
    }
  }
}

export async function verifyCommand(o: { json?: boolean }): Promise<number> {
  const file = resolveHomes(process.env).auditFile;
  const res = verifyAuditFile(file);
  if (o.json) writeJson({ file, ...res });
  else if (res.ok) process.stdout.write(`ok: ${res.records} record${res.records === 1 ? '' : 's'}, hash chain intact (${file})\n`);
  else {
    const b = res.firstBad!;
    process.stdout.write(`BROKEN at line ${b.line}${b.id ? ` (${b.id})` : ''}: ${b.problem}\n${file}: ${res.records} record(s) read\n`);
  }
  return res.ok ? 0 : 1;
}
