import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAuditE2E } from './audit-fixture.js';
import { type E2E, probeLines } from './helpers.js';

const TOKEN = 'audit-e2e-token-3f9a1c77d2b84e0a';

describe('audit log', () => {
  let e: E2E;
  const auditFile = () => join(e.home, 'audit.jsonl');
  beforeAll(async () => {
    e = await makeAuditE2E(TOKEN);
  });
  afterAll(() => e?.cleanup());

  it('16 concurrent execs: 32 records (start + end each), one unbroken chain', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, n) => e.cli(['exec', 'au.echo', '-p', `n=${n}`, '--json'], { timeoutMs: 60_000 })));
    for (const [n, r] of results.entries()) {
      expect({ n, status: r.status, stderr: r.stderr }).toEqual({ n, status: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, stdout: `call ${n} [REDACTED:TOKEN]\n`, redactions: 1 });
    }
    const recs = e.audit();
    expect(recs).toHaveLength(32);
    const ids = results.map((r) => (JSON.parse(r.stdout) as { auditId: string }).auditId);
    expect(new Set(ids).size).toBe(16);
    for (const id of ids) {
      const mine = recs.filter((x) => x.id === id);
      expect(mine.map((x) => x.phase)).toEqual(['start', 'end']);
      expect(mine[1]).toMatchObject({ decision: 'allow', exitCode: 0, redactions: 1, secretExposed: false, tenant: 'acme', service: 'au', recipe: 'echo', mode: 'exec' });
    }
    // The chain links each record to the one before it, in file order.
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.prev).toBe(recs[i - 1]!.hash);
    const v = await e.cli(['audit', 'verify']);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('ok: 32 records');
    expect(readFileSync(auditFile(), 'utf8')).not.toContain(TOKEN);
  }, 90_000);

  it('`outloop audit` prints a table; --json prints one JSON record per line', async () => {
    const t = await e.cli(['audit']);
    expect(t.status).toBe(0);
    const lines = t.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME.*\bID\b.*TENANT.*SERVICE\.RECIPE.*DECISION.*EXIT/);
    // One row per attempt (start and end folded together).
    expect(lines).toHaveLength(1 + 16);
    for (const row of lines.slice(1)) expect(row).toMatch(/ol_\S+\s+acme\s+au\.echo\s+exec\s+allow\s+0\s/);

    const j = await e.cli(['audit', '--json']);
    expect(j.status).toBe(0);
    const recs = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(32);
    for (const r of recs) {
      for (const k of ['ts', 'id', 'project', 'tenant', 'service', 'recipe', 'mode', 'decision', 'exitCode', 'durationMs', 'redactions', 'secretExposed', 'prev', 'hash']) {
        expect(r).toHaveProperty(k);
      }
      expect(r.secretExposed).toBe(false);
    }
    const n = await e.cli(['audit', '-n', '2', '--json']);
    expect(n.stdout.trimEnd().split('\n')).toHaveLength(4);
  });

  it('a denied attempt is on record too, with its code', async () => {
    const before = e.audit().length;
    const r = await e.cli(['exec', 'au.echo', '-p', 'n=5000']);
    expect(r.status).toBe(65);
    const recs = e.audit().slice(before);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ phase: 'end', decision: 'deny', code: 'bad_param', exitCode: 65 });
  });

  it('tampering with one record: verify exits 1 and names the line', async () => {
    const file = auditFile();
    const original = readFileSync(file, 'utf8');
    try {
      const lines = original.split('\n');
      const rec = JSON.parse(lines[6]!) as Record<string, unknown>;
      rec.tenant = 'globex';
      lines[6] = JSON.stringify(rec);
      writeFileSync(file, lines.join('\n'));
      const v = await e.cli(['audit', 'verify']);
      expect(v.status).toBe(1);
      expect(v.stdout).toContain('line 7');
      expect(v.stdout).toContain(String(rec.id));

      // Removing a record in the middle breaks the chain at the next one.
      const cut = original.split('\n');
      cut.splice(3, 1);
      writeFileSync(file, cut.join('\n'));
      const v2 = await e.cli(['audit', 'verify']);
      expect(v2.status).toBe(1);
      expect(v2.stdout).toContain('line 4');
    } finally {
      writeFileSync(file, original);
    }
    expect((await e.cli(['audit', 'verify'])).status).toBe(0);
  });

  // Regression (was a bug): `outloop audit verify --json` prints the human text ("ok: N records, ..."), not JSON, although
  // `audit verify --help` lists --json. The parent `audit` command also defines --json, and commander
  // gives an option defined on a parent to the parent wherever it appears, so verify's action gets
  // o.json === undefined. Fix (src/cli/main.ts): in verify's action use `cmd.optsWithGlobals().json`
  // (action signature `(o, cmd)`), or `program.enablePositionalOptions()` plus positional parsing on audit.
  it('`audit verify --json` prints a JSON result (ok, records; firstBad with the line when broken)', async () => {
    const file = auditFile();
    const original = readFileSync(file, 'utf8');
    const vj = await e.cli(['audit', 'verify', '--json']);
    expect(vj.status).toBe(0);
    expect(JSON.parse(vj.stdout)).toMatchObject({ ok: true, records: original.split('\n').length - 1 });
    try {
      const lines = original.split('\n');
      lines[2] = lines[2]!.replace('"mode":"exec"', '"mode":"check"');
      writeFileSync(file, lines.join('\n'));
      const bad = await e.cli(['audit', 'verify', '--json']);
      expect(bad.status).toBe(1);
      expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, firstBad: { line: 3 } });
    } finally {
      writeFileSync(file, original);
    }
  });

  it('audit log cannot be written: 70, stderr names the audit log, nothing ran, no secret read', async () => {
    const file = auditFile();
    const saved = readFileSync(file);
    rmSync(file);
    mkdirSync(file);
    const probe = join(e.root, 'probe-audit.log');
    try {
      const r = await e.cli(['exec', 'au.marker'], { probe });
      expect(r.status).toBe(70);
      expect(r.stderr).toContain('audit log');
      expect(r.stderr).toContain(file);
      expect(existsSync(join(e.projects.acme!, 'marker'))).toBe(false);
      expect(probeLines(probe)).toEqual([]);
      const j = await e.cli(['exec', 'au.marker', '--json']);
      expect(j.status).toBe(70);
      expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, code: 'audit_unavailable' });
      expect(existsSync(join(e.projects.acme!, 'marker'))).toBe(false);
    } finally {
      rmSync(file, { recursive: true, force: true });
      writeFileSync(file, saved);
    }
    // The same request with a writable log runs (the marker proves the recipe works).
    const ok = await e.cli(['exec', 'au.marker']);
    expect(ok.status).toBe(0);
    expect(existsSync(join(e.projects.acme!, 'marker'))).toBe(true);
  });
});
