import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/index.js';
import { installKey } from '../../src/audit/fingerprint.js';
import { existingChainKey, openAuditLog } from '../../src/audit/install.js';
import { AuditError } from '../../src/errors.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

describe('audit.key: written whole, never replaced quietly', () => {
  it('first use creates a 32-byte key, 0600, and leaves no temp file', () => {
    const dir = tempDir();
    const key = installKey(dir);
    expect(key).toHaveLength(32);
    expect(installKey(dir).equals(key)).toBe(true);
    expect(readdirSync(dir)).toEqual(['audit.key']);
  });

  it('an empty key no record used (a first write cut short): recovered with a new key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit.key'), '');
    const key = installKey(dir);
    expect(key).toHaveLength(32);
    expect(readFileSync(join(dir, 'audit.key'), 'utf8').trim()).toBe(key.toString('base64'));
    // The damaged file is kept aside, not deleted.
    expect(readdirSync(dir).filter((n) => n.startsWith('audit.key.damaged-'))).toHaveLength(1);
  });

  it('an empty key the log was made under: refused, naming the file and the way out', async () => {
    const dir = tempDir();
    const homes = { stateDir: dir, auditFile: join(dir, 'audit.jsonl') };
    const log = openAuditLog(homes);
    for (let i = 0; i < 4; i++) await log.append(entry());
    writeFileSync(join(dir, 'audit.key'), '');
    const err = (() => {
      try {
        installKey(dir);
      } catch (e) {
        return e;
      }
    })() as AuditError;
    expect(err).toBeInstanceOf(AuditError);
    expect(err.message).toContain(`the install key ${join(dir, 'audit.key')} is damaged: it is empty (0 bytes)`);
    expect(err.message).toContain('has 4 record(s) made under it');
    expect(err.next).toMatch(/^Restore .*audit\.key from a backup and retry\. To start over with a new key instead, move the audit log and its \.head file aside/);
    expect(readFileSync(join(dir, 'audit.key'), 'utf8')).toBe('');
    // Appending refuses too: nothing runs unrecorded, and nothing is written under a new key.
    await expect(openAuditLog(homes).append(entry())).rejects.toThrow(/install key .* is damaged/);
  });

  it('a deleted key after use is not regenerated (lookup would miss every earlier use)', async () => {
    const dir = tempDir();
    const homes = { stateDir: dir, auditFile: join(dir, 'audit.jsonl') };
    await openAuditLog(homes).append(entry());
    rmSync(join(dir, 'audit.key'));
    expect(() => installKey(dir)).toThrow(/install key .* is missing, but the audit log .* has 1 record\(s\) made under it/);
    expect(existsSync(join(dir, 'audit.key'))).toBe(false);
  });

  it('an older log without a head shows use by its fingerprints', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify({ id: 'ol_1', secrets: [{ name: 'T', ref: 'local:a/t', fingerprint: 'hmac-sha256:00' }] })}\n`);
    expect(() => installKey(dir)).toThrow(/is missing, but the audit log .* has records made under it/);
  });

  it('the documented recovery: move the log and head aside, and a new chain starts', async () => {
    const dir = tempDir();
    const homes = { stateDir: dir, auditFile: join(dir, 'audit.jsonl') };
    await openAuditLog(homes).append(entry());
    rmSync(join(dir, 'audit.key'));
    mkdirSync(join(dir, 'old'));
    for (const f of ['audit.jsonl', 'audit.jsonl.head']) execFileSync('mv', [join(dir, f), join(dir, 'old', f)]);
    await openAuditLog(homes).append(entry());
    expect(verifyAuditFile(homes.auditFile, { chainKey: existingChainKey(dir, homes.auditFile) })).toEqual({ ok: true, records: 1, keyed: 1 });
  });
});

// A real full disk: a 4 KiB tmpfs (root can mount one; CI runs as root).
describe('disk full while the key is written', () => {
  const mounts: string[] = [];
  afterEach(() => {
    for (const m of mounts.splice(0)) execFileSync('umount', [m]);
  });

  it('ENOSPC leaves no empty audit.key, and the next run after space is back works', () => {
    const dir = join(tempDir(), 'full');
    mkdirSync(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir], { stdio: 'ignore' });
    } catch (err) {
      if (process.env.CI) throw err;
      return; // not root here: the disk-full case needs a mount
    }
    mounts.push(dir);
    writeFileSync(join(dir, 'filler'), Buffer.alloc(4096));
    expect(() => installKey(dir)).toThrow(/cannot create the install key .*audit\.key: no space left on device \(ENOSPC\)/);
    expect(readdirSync(dir)).toEqual(['filler']);
    rmSync(join(dir, 'filler'));
    expect(installKey(dir)).toHaveLength(32);
  });
});
