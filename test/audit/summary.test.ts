import { describe, expect, it } from 'vitest';
import { type AuditRecord, ZERO_HASH, formatAuditTable, summarizeAttempts } from '../../src/audit/index.js';
import { entry } from './helpers.js';

function rec(over: Partial<AuditRecord>): AuditRecord {
  return { ...entry(), ts: '2025-03-04T05:06:07.890Z', secretExposed: false, prev: ZERO_HASH, hash: ZERO_HASH, ...over } as AuditRecord;
}

describe('summarizeAttempts', () => {
  it('keeps the latest record per id in order of first appearance and flags starts with no end', () => {
    const records = [
      rec({ id: 'ol_a', phase: 'start', exitCode: null, durationMs: null }),
      rec({ id: 'ol_b', phase: 'start', exitCode: null, durationMs: null }),
      rec({ id: 'ol_c', decision: 'deny', code: 'not_allowed', exitCode: 77 }),
      rec({ id: 'ol_a', phase: 'end', exitCode: 3, durationMs: 1500 }),
    ];
    const attempts = summarizeAttempts(records);
    expect(attempts.map((a) => [a.id, a.phase, a.incomplete])).toEqual([
      ['ol_a', 'end', false],
      ['ol_b', 'start', true],
      ['ol_c', 'end', false],
    ]);
    expect(attempts[0]?.exitCode).toBe(3);
  });
});

describe('formatAuditTable', () => {
  const table = formatAuditTable(
    summarizeAttempts([
      rec({ id: 'ol_a', phase: 'start', exitCode: null, durationMs: null }),
      rec({ id: 'ol_b', tenant: null, decision: 'deny', code: 'tenant_mismatch', exitCode: 77, durationMs: 3, redactions: 2 }),
      rec({ id: 'ol_c', service: 'stripe', recipe: 'refund', durationMs: 65_000, tenant: 'evil\u001b[31m' }),
    ]),
  );
  const rows = table.split('\n');

  it('has a header and one row per attempt, with fixed-width columns', () => {
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^TIME \(UTC\)\s+ID\s+TENANT\s+SERVICE\.RECIPE\s+MODE\s+DECISION\s+EXIT\s+DURATION\s+REDACTIONS$/);
    const modeAt = rows[0]!.indexOf('MODE');
    for (const row of rows.slice(1)) expect(row.slice(modeAt, modeAt + 4)).toBe('exec');
  });

  it('flags the incomplete attempt and shows codes, exits and durations', () => {
    expect(rows[1]).toMatch(/^2025-03-04 05:06:07\s+ol_a\s+acme\s+github\.list-repos\s+exec\s+incomplete \(killed\?\)\s+-\s+-\s+0$/);
    expect(rows[2]).toMatch(/ol_b\s+-\s+github\.list-repos\s+exec\s+deny\/tenant_mismatch\s+77\s+3ms\s+2$/);
    expect(rows[3]).toMatch(/stripe\.refund\s+exec\s+allow\s+0\s+1m05s\s+0$/);
  });

  it('never passes control characters from the log to the terminal', () => {
    expect(table).not.toMatch(/\u001b/);
    expect(rows[3]).toContain('evil?[31m');
  });
});

describe('dry runs in the table', () => {
  it('are marked, so they never read like a run that happened', () => {
    const base = { ts: '2026-11-24T00:00:00.000Z', phase: 'end', mode: 'exec', project: '/p', tenant: 'acme', service: 's', recipe: 'r', decision: 'allow', exitCode: 0, durationMs: 3, redactions: 0, secretExposed: false, prev: '0'.repeat(64), hash: '1'.repeat(64) } as const;
    const table = formatAuditTable(summarizeAttempts([{ ...base, id: 'ol_dry', dryRun: true }, { ...base, id: 'ol_real' }]));
    const [dry, real] = table.trim().split('\n').slice(1);
    expect(dry).toContain('allow (dry run)');
    expect(real).not.toContain('dry run');
  });
});
