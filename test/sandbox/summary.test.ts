import { describe, expect, it } from 'vitest';
import { formatAuditTable, summarizeAttempts } from '../../src/audit/summary.js';
import type { AuditRecord } from '../../src/audit/types.js';

const base = {
  ts: '2026-11-24T01:00:00.000Z', phase: 'end', mode: 'exec', project: '/p', tenant: 'acme', service: 'box', recipe: 'probe',
  decision: 'allow', exitCode: 0, durationMs: 10, redactions: 0, secretExposed: false, prev: '', hash: '',
} as const;

describe('audit table: what the sandbox saw', () => {
  it('shows refused connections, truncation, and runs without enforcement', () => {
    const records = [
      { ...base, id: 'a1', sandbox: 'bwrap', sandboxMode: 'auto', egressEnforced: true, egress: [{ decision: 'allow' }, { decision: 'deny' }, { decision: 'deny' }] },
      { ...base, id: 'a2', sandbox: 'bwrap', sandboxMode: 'auto', egressEnforced: true, truncated: true, exitCode: 137 },
      { ...base, id: 'a3', sandbox: 'none', sandboxMode: 'auto', egressEnforced: false },
      { ...base, id: 'a4', sandbox: 'none', sandboxMode: 'off', egressEnforced: false },
      { ...base, id: 'a5', sandbox: 'bwrap', sandboxMode: 'auto', egressEnforced: true, egress: [{ decision: 'allow' }] },
    ] as unknown as AuditRecord[];
    const lines = formatAuditTable(summarizeAttempts(records)).split('\n');
    expect(lines[1]).toContain('allow (2 egress refused)');
    expect(lines[2]).toContain('allow (truncated)');
    expect(lines[3]).toContain('allow (no sandbox)');
    expect(lines[4]).toContain('allow (sandbox off)');
    expect(lines[5]).toMatch(/\ballow\s+0\b/);
  });
});
