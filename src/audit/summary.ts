import type { AuditRecord } from './types.js';

export type AuditAttempt = AuditRecord & { incomplete: boolean };

/**
 * One row per attempt: its latest record, in order of first appearance. An allowed run writes a `start`
 * record before touching any secret and an `end` record after; a start with no end is a run that was
 * killed (or is still running), which the table must show rather than hide.
 */
export function summarizeAttempts(records: AuditRecord[]): AuditAttempt[] {
  const latest = new Map<string, AuditRecord>();
  for (const record of records) {
    // Re-setting keeps the key's original insertion position, which is the first-appearance order.
    latest.set(record.id, record);
  }
  return Array.from(latest.values(), (record) => ({ ...record, incomplete: record.phase === 'start' }));
}

interface Column {
  title: string;
  max: number;
  right?: boolean;
  cell: (a: AuditAttempt) => string;
}

const COLUMNS: Column[] = [
  { title: 'TIME (UTC)', max: 19, cell: (a) => formatTime(a.ts) },
  { title: 'ID', max: 24, cell: (a) => a.id },
  { title: 'TENANT', max: 20, cell: (a) => a.tenant ?? '-' },
  { title: 'SERVICE.RECIPE', max: 36, cell: (a) => serviceRecipe(a) },
  { title: 'MODE', max: 6, cell: (a) => a.mode },
  { title: 'DECISION', max: 36, cell: (a) => decision(a) },
  { title: 'EXIT', max: 4, right: true, cell: (a) => (a.exitCode == null ? '-' : String(a.exitCode)) },
  { title: 'DURATION', max: 8, right: true, cell: (a) => formatDuration(a.durationMs) },
  { title: 'REDACTIONS', max: 10, right: true, cell: (a) => String(a.redactions ?? 0) },
];

/** A plain-text table, columns padded to their widest cell (capped, longer values cut with `…`). */
export function formatAuditTable(attempts: AuditAttempt[]): string {
  const rows = attempts.map((a) => COLUMNS.map((col) => fit(clean(col.cell(a)), col.max)));
  const widths = COLUMNS.map((col, i) => Math.max(col.title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const render = (cells: string[]): string =>
    cells
      .map((text, i) => (COLUMNS[i]?.right ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(COLUMNS.map((col) => col.title)), ...rows.map(render)].join('\n');
}

function decision(a: AuditAttempt): string {
  if (a.incomplete) return 'incomplete (killed?)';
  const d = a.code ? `${a.decision}/${a.code}` : a.decision;
  // A dry run decided but ran nothing; it must not read like a run that happened.
  if (a.dryRun === true) return `${d} (dry run)`;
  return d + runNotes(a);
}

/** What the sandbox saw: refused connections, cut output, a run without enforcement. */
function runNotes(a: AuditAttempt): string {
  const notes: string[] = [];
  const refused = Array.isArray(a.egress) ? a.egress.filter((e) => (e as { decision?: unknown }).decision === 'deny').length : 0;
  if (refused) notes.push(`${refused} egress refused`);
  if (a.truncated === true) notes.push('truncated');
  if (a.egressEnforced === false && a.sandboxMode !== undefined) notes.push(a.sandboxMode === 'off' ? 'sandbox off' : 'no sandbox');
  return notes.length ? ` (${notes.join(', ')})` : '';
}

function serviceRecipe(a: AuditAttempt): string {
  if (a.service == null && a.recipe == null) return '-';
  // outloop run names services, no recipe (MODE says run).
  if (a.recipe == null && a.mode === 'run') return a.service ?? '-';
  return `${a.service ?? '-'}.${a.recipe ?? '-'}`;
}

function formatTime(ts: string): string {
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? ts : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function formatDuration(ms: number | null): string {
  if (ms == null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

// The log is a file anyone with access can edit: never let its text drive the terminal.
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
