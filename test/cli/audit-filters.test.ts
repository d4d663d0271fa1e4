import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFilter } from '../../src/cli/audit.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

const rec = (over: Record<string, unknown>) => ({ ts: '2026-12-01T10:00:00.000Z', id: 'ol_1', phase: 'end', tenant: 'acme', service: 'svc', recipe: 'a', decision: 'allow', ...over }) as never;

describe('audit filters', () => {
  it('one predicate over records: tenant, service, decision (end records), since (instant or duration)', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(auditFilter({ tenant: 'acme' }, now)(rec({}))).toBe(true);
    expect(auditFilter({ tenant: 'globex' }, now)(rec({}))).toBe(false);
    expect(auditFilter({ service: 'svc', decision: 'allow' }, now)(rec({}))).toBe(true);
    expect(auditFilter({ decision: 'allow' }, now)(rec({ phase: 'start' }))).toBe(false);
    expect(auditFilter({ decision: 'deny' }, now)(rec({}))).toBe(false);
    expect(auditFilter({ since: '1h' }, now)(rec({}))).toBe(false);
    expect(auditFilter({ since: '3h' }, now)(rec({}))).toBe(true);
    expect(auditFilter({ since: '2026-12-01T09:59:59Z' }, now)(rec({}))).toBe(true);
    expect(() => auditFilter({ since: 'yesterday' }, now)).toThrow(/--since/);
    expect(() => auditFilter({ decision: 'dney' }, now)).toThrow(/did you mean "deny"/);
  });

  describe('through the CLI', () => {
    let e: E2E;
    beforeAll(async () => {
      e = makeE2E(['acme', 'globex']);
      e.writeRecipe('svc', 'service: svc\nhosts: []\nrecipes:\n  a:\n    description: d\n    risk: read\n    run: [echo, hi]\n  b:\n    description: d\n    risk: read\n    run: [echo, hi]\n');
      e.writeConfig(configYaml(e, { acme: 'svc:\n  allow: [a]', globex: 'svc:\n  allow: ["*"]' }));
      await e.cli(['exec', 'svc.a']);
      await e.cli(['exec', 'svc.b']); // denied for acme
      await e.cli(['exec', 'svc.b'], { cwd: e.projects.globex });
    });
    afterAll(() => e?.cleanup());

    const attempts = async (args: string[]) => {
      const r = await e.cli(['audit', '--json', ...args]);
      expect(r.status).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; tenant: string; decision: string; phase: string });
    };

    it('--tenant, --decision, --service, --since and -n combine', async () => {
      expect(new Set((await attempts(['--tenant', 'globex'])).map((r) => r.tenant))).toEqual(new Set(['globex']));
      const denied = (await attempts(['--decision', 'deny'])).filter((r) => r.phase === 'end');
      expect(denied.map((r) => [r.tenant, r.decision])).toEqual([['acme', 'deny']]);
      expect(await attempts(['--service', 'nope'])).toEqual([]);
      expect(await attempts(['--since', '2099-01-01T00:00:00Z'])).toEqual([]);
      expect(new Set((await attempts(['--since', '1h'])).map((r) => r.id)).size).toBe(3);
      expect(new Set((await attempts(['--tenant', 'acme', '-n', '1'])).map((r) => r.id)).size).toBe(1);
      const table = await e.cli(['audit', '--tenant', 'nobody']);
      expect(table.stdout).toContain('No audit records match');
      const bad = await e.cli(['audit', '--decision', 'denied']);
      expect(bad.status).toBe(64);
    });

    it('recipes list --granted shows only what the tenant may run', async () => {
      const r = await e.cli(['recipes', 'list', '--granted', '--json']);
      expect((JSON.parse(r.stdout) as { recipes: { name: string }[] }).recipes.map((x) => x.name)).toEqual(['svc.a']);
      const t = await e.cli(['recipes', 'list', '--granted']);
      expect(t.stdout).toContain('svc.a');
      expect(t.stdout).not.toContain('svc.b');
      expect(t.stdout).not.toContain('github.');
    });
  });
});
