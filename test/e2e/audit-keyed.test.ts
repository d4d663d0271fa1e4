import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAuditE2E } from './audit-fixture.js';
import type { E2E } from './helpers.js';


/** The attacker's tool: the unkeyed chain recomputed over edited records (canonical JSON, SHA-256). */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
function recompute(text: string, edit: (r: Record<string, unknown>) => void): string {
  let prev = '0'.repeat(64);
  return text.split('\n').filter(Boolean).map((l) => {
    const { hash: _h, chain: _c, ...r } = JSON.parse(l) as Record<string, unknown>;
    edit(r);
    r.prev = prev;
    r.hash = createHash('sha256').update(canonical(r)).digest('hex');
    prev = r.hash as string;
    return `${JSON.stringify(r)}\n`;
  }).join('');
}

describe('audit verify on a keyed chain (personal mode)', () => {
  let e: E2E;
  const auditFile = () => join(e.home, 'audit.jsonl');
  beforeAll(async () => {
    e = await makeAuditE2E('keyed-e2e-token-0b1c2d3e4f5a6b7c');
    for (let n = 0; n < 3; n++) expect((await e.cli(['exec', 'au.echo', '-p', `n=${n}`])).status).toBe(0);
  }, 60_000);
  afterAll(() => e?.cleanup());

  const withLog = async (text: string, check: () => Promise<void>) => {
    const original = readFileSync(auditFile());
    try {
      writeFileSync(auditFile(), text);
      await check();
    } finally {
      writeFileSync(auditFile(), original);
    }
  };

  it('an intact log: ok, keyed', async () => {
    const v = await e.cli(['audit', 'verify']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^ok: 6 records, hash chain intact, keyed \(HMAC-SHA256\)/);
  });

  it('records edited and the unkeyed chain recomputed: exit 1, named', async () => {
    const text = recompute(readFileSync(auditFile(), 'utf8'), (r) => {
      if (r.phase === 'end') r.exitCode = 3;
    });
    await withLog(text, async () => {
      const v = await e.cli(['audit', 'verify', '--json']);
      expect(v.status).toBe(1);
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, records: 6, tampered: expect.stringMatching(/^the log was rewritten: record 6.*\(a recomputed chain\)$/) });
    });
  });

  it('emptied: exit 1, the head says what it had', async () => {
    await withLog('', async () => {
      const v = await e.cli(['audit', 'verify']);
      expect(v.status).toBe(1);
      expect(v.stdout).toMatch(/^TAMPERED: the log .*audit\.jsonl is empty, but its head file says it had 6 record\(s\)/);
    });
  });

  it('truncated to its first attempt: exit 1, both counts', async () => {
    const first = readFileSync(auditFile(), 'utf8').split('\n').slice(0, 2).join('\n') + '\n';
    await withLog(first, async () => {
      const v = await e.cli(['audit', 'verify']);
      expect(v.status).toBe(1);
      expect(v.stdout).toMatch(/^TAMPERED: the log was truncated: it has 2 record\(s\) \(\d+ bytes\), but its head file says 6 record\(s\)/);
    });
  });

  it('deleted audit.key: exec refuses with the way out, and does not make a new one', async () => {
    const keyFile = join(e.home, 'audit.key');
    const saved = readFileSync(keyFile);
    rmSync(keyFile);
    try {
      const r = await e.cli(['exec', 'au.echo', '-p', 'n=9']);
      expect(r.status).toBe(70);
      expect(r.stderr).toContain(`the install key ${keyFile} is missing, but the audit log`);
      expect(r.stderr).toMatch(/next: Restore .*audit\.key from a backup/);
      expect(r.stdout).not.toContain('call 9');
      expect(existsSync(keyFile)).toBe(false);
      // A denial refuses too, rather than writing under a fresh key.
      expect((await e.cli(['exec', 'au.echo', '-p', 'n=5000'])).status).toBe(70);
      expect(existsSync(keyFile)).toBe(false);
    } finally {
      writeFileSync(keyFile, saved, { mode: 0o600 });
    }
    expect((await e.cli(['audit', 'verify'])).status).toBe(0);
  });

  it('an empty audit.key (ENOSPC left it) after use: refused with the way out, not exit 70 "internal error"', async () => {
    const keyFile = join(e.home, 'audit.key');
    const saved = readFileSync(keyFile);
    writeFileSync(keyFile, '');
    try {
      const r = await e.cli(['exec', 'au.echo', '-p', 'n=9', '--json']);
      expect(r.status).toBe(70);
      const out = JSON.parse(r.stdout) as { code: string; reason: string; next: string };
      expect(out.code).toBe('audit_unavailable');
      expect(out.reason).toContain('is damaged: it is empty (0 bytes)');
      expect(out.reason).not.toMatch(/internal error/);
      expect(out.next).toMatch(/^Restore /);
    } finally {
      writeFileSync(keyFile, saved, { mode: 0o600 });
    }
  });
});

describe('audit lookup after audit.key was deleted', () => {
  it('refuses instead of answering "not used"', async () => {
    const e = await makeAuditE2E('lookup-token-9f8e7d6c5b4a3210');
    try {
      expect((await e.cli(['exec', 'au.echo', '-p', 'n=1'])).status).toBe(0);
      expect((await e.cli(['audit', 'lookup'], { input: 'lookup-token-9f8e7d6c5b4a3210\n' })).status).toBe(0);
      rmSync(join(e.home, 'audit.key'));
      const r = await e.cli(['audit', 'lookup'], { input: 'lookup-token-9f8e7d6c5b4a3210\n' });
      expect(r.status).toBe(70);
      expect(r.stderr).toMatch(/install key .*audit\.key is missing, but the audit log/);
      expect(r.stdout).not.toContain('No recorded attempt');
      expect(existsSync(join(e.home, 'audit.key'))).toBe(false);
    } finally {
      e.cleanup();
    }
  }, 60_000);
});
