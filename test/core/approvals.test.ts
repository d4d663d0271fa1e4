import { describe, expect, it } from 'vitest';
import { decide, type Decision } from '../../src/policy/decide.js';
import { approvalKey, approvalTtlMs, approvalVerdict, DEFAULT_APPROVAL_TTL_MS, needsApproval, type Approvals } from '../../src/policy/approvals.js';
import { configFrom, expectGates, serviceFrom } from './helpers.js';
import { outcomeResult } from '../../src/mcp/tools.js';

// Approvals: `approve: [recipe]` or `approve: { risk: write }` on a grant makes a request wait for a person.
// The gate is pure: decide() gets a snapshot of the records (key -> newest record), as it does budgets.
const NOW = Date.parse('2026-11-24T12:00:00Z');
const SERVICE = serviceFrom(
  `service: pay\nrecipes:\n  list:\n    description: list\n    risk: read\n    run: ["true"]\n  refund:\n    description: refund\n    risk: write\n    params:\n      amount: { type: integer }\n    run: [echo, "{{params.amount}}"]\n  wipe:\n    description: wipe\n    risk: admin\n    run: ["true"]\n`,
  '/recipes/pay.yaml',
);
const grantOf = (extra: string) => configFrom(`tenants:\n  acme:\n    projects: [/w/acme]\n    services:\n      pay:\n        allow: ["*"]\n${extra}`);

function run(extra: string, params: Record<string, string>, approvals?: Approvals, recipe = 'refund'): Decision {
  const config = grantOf(extra);
  return decide(
    { service: 'pay', recipe, params, cwd: '/w/acme' },
    { binding: { tenant: 'acme', project: '/w/acme' }, tenants: config.tenants, service: SERVICE, configFile: '/c.yaml', now: NOW, approvals },
  );
}

describe('needsApproval', () => {
  it('a list names recipes; { risk } takes every recipe at or above it; none when unset', () => {
    const list = grantOf('        approve: [refund]\n').tenants.acme!.services.pay!;
    expect(needsApproval(list, { name: 'refund', risk: 'write' })).toBe(true);
    expect(needsApproval(list, { name: 'list', risk: 'read' })).toBe(false);
    const risk = grantOf('        approve: { risk: write }\n').tenants.acme!.services.pay!;
    expect(needsApproval(risk, { name: 'list', risk: 'read' })).toBe(false);
    expect(needsApproval(risk, { name: 'refund', risk: 'write' })).toBe(true);
    expect(needsApproval(risk, { name: 'wipe', risk: 'admin' })).toBe(true);
    expect(needsApproval(grantOf('').tenants.acme!.services.pay!, { name: 'wipe', risk: 'admin' })).toBe(false);
  });

  it('approvalTtl defaults to 15 minutes and parses durations; a bad one is a config error', () => {
    expect(approvalTtlMs(grantOf('').tenants.acme!.services.pay!)).toBe(DEFAULT_APPROVAL_TTL_MS);
    expect(DEFAULT_APPROVAL_TTL_MS).toBe(15 * 60_000);
    expect(approvalTtlMs(grantOf('        approvalTtl: 1s\n').tenants.acme!.services.pay!)).toBe(1000);
    expect(() => grantOf('        approvalTtl: soon\n')).toThrow();
    expect(() => grantOf('        approve: { risk: huge }\n')).toThrow();
    expect(() => grantOf('        approvalReason: maybe\n')).toThrow();
  });
});

describe('approvalKey', () => {
  it('binds tenant, service, recipe, params and the recipe file; parameter order does not matter', () => {
    const k = approvalKey('acme', 'pay', 'refund', { a: '1', b: '2' }, 'sha');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(approvalKey('acme', 'pay', 'refund', { b: '2', a: '1' }, 'sha')).toBe(k);
    for (const other of [
      approvalKey('globex', 'pay', 'refund', { a: '1', b: '2' }, 'sha'),
      approvalKey('acme', 'pax', 'refund', { a: '1', b: '2' }, 'sha'),
      approvalKey('acme', 'pay', 'refunds', { a: '1', b: '2' }, 'sha'),
      approvalKey('acme', 'pay', 'refund', { a: '1', b: '3' }, 'sha'),
      approvalKey('acme', 'pay', 'refund', { a: '1', b: '2' }, 'sha2'),
    ]) expect(other).not.toBe(k);
  });
});

describe('the approval gate', () => {
  const key = approvalKey('acme', 'pay', 'refund', { amount: '5' }, SERVICE.recipes.get('refund')!.fileSha256);

  it('no record: approval_required after hosts, before budget, with what would run and the TTL', () => {
    const d = run('        approve: [refund]\n        approvalTtl: 2m\n        approvalReason: required\n        rate: 1/min\n', { amount: '5' });
    if (d.allow) throw new Error('expected approval_required');
    expect(d.code).toBe('approval_required');
    expectGates(d, 'approval');
    expect(d.approval).toMatchObject({ key, tenant: 'acme', service: 'pay', recipe: 'refund', risk: 'write', params: { amount: '5' }, ttlMs: 120_000, reasonRequired: true });
    expect(d.approval?.pendingId).toBeUndefined();
  });

  it('a recipe the grant does not list passes the gate', () => {
    const d = run('        approve: [refund]\n', {}, undefined, 'list');
    expect(d.allow && d.gates.find((g) => g.name === 'approval')).toMatchObject({ status: 'pass', detail: 'none needed' });
  });

  it('pending: still required, and names the waiting record; approved and unexpired: pass, carried in the plan', () => {
    const pending = run('        approve: [refund]\n', { amount: '5' }, { [key]: { id: 'ap_1', status: 'pending', expiresAt: NOW + 1000 } });
    expect(!pending.allow && pending.approval?.pendingId).toBe('ap_1');
    const ok = run('        approve: [refund]\n', { amount: '5' }, { [key]: { id: 'ap_1', status: 'approved', expiresAt: NOW + 1000 } });
    if (!ok.allow) throw new Error(`expected allow, got ${ok.code}`);
    expect(ok.plan.approval).toEqual({ id: 'ap_1', key });
    expect(ok.gates.find((g) => g.name === 'approval')?.status).toBe('pass');
  });

  it('the approval covers only its own parameters', () => {
    const d = run('        approve: [refund]\n', { amount: '6' }, { [key]: { id: 'ap_1', status: 'approved', expiresAt: NOW + 1000 } });
    expect(!d.allow && d.code).toBe('approval_required');
  });

  it('used or expired: required again (a new request); denied: approval_denied', () => {
    for (const state of [{ id: 'ap_1', status: 'used' as const, expiresAt: NOW + 1000 }, { id: 'ap_1', status: 'approved' as const, expiresAt: NOW - 1 }]) {
      const d = run('        approve: [refund]\n', { amount: '5' }, { [key]: state });
      expect(!d.allow && d.code).toBe('approval_required');
      expect(!d.allow && d.approval?.pendingId).toBeUndefined();
    }
    const denied = run('        approve: [refund]\n', { amount: '5' }, { [key]: { id: 'ap_1', status: 'denied', expiresAt: NOW + 1000 } });
    if (denied.allow) throw new Error('expected approval_denied');
    expect(denied.code).toBe('approval_denied');
    expectGates(denied, 'approval');
  });

  it('approvalVerdict: expiry is strict (now > expiresAt)', () => {
    expect(approvalVerdict({ id: 'a', status: 'approved', expiresAt: NOW }, NOW)).toEqual({ kind: 'approved', id: 'a' });
    expect(approvalVerdict({ id: 'a', status: 'approved', expiresAt: NOW }, NOW + 1)).toEqual({ kind: 'required' });
  });
});

describe('MCP', () => {
  it('an approval_required outcome is a tool error whose text names the approval id and the next step', () => {
    const d = run('        approve: [refund]\n', { amount: '5' });
    if (d.allow) throw new Error('expected approval_required');
    const r = outcomeResult({ kind: 'denied', auditId: 'au_1', decision: { ...d, next: 'Ask a person to run: outloop approve ap_abc; then re-run this exact command.' }, exitCode: 75, approvalId: 'ap_abc' });
    expect(r.isError).toBe(true);
    const text = r.content.map((c) => ('text' in c ? c.text : '')).join('\n');
    expect(text).toContain('ap_abc');
    expect(text).toContain('[approval_required]');
    expect(r.structuredContent).toMatchObject({ code: 'approval_required', approvalId: 'ap_abc', exitCode: 75, decision: 'approval_required' });
  });
});
