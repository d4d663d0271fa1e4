import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockTimeoutError, withFileLock } from '../../src/fs/lock.js';
import { startTime } from '../../src/util/process.js';

/**
 * Odd lock files never block for long (issue 19 item 5): content that is not outloop's, a live pid that is
 * not the process that took the lock, a holder that died. A real live holder still excludes.
 */
const dir = mkdtempSync(join(tmpdir(), 'outloop-faults-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const lockFile = () => join(dir, `l${n++}.lock`);
const HEX = '0123456789abcdef';

function sleeper(): Promise<{ pid: number; kill: () => Promise<void> }> {
  const c = spawn('sleep', ['30'], { stdio: 'ignore' });
  return new Promise((resolve) =>
    c.once('spawn', () => resolve({ pid: c.pid!, kill: () => new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGKILL'))) })),
  );
}

describe('lock files that are not what they claim', () => {
  it('non-numeric or empty content an hour old is taken over at once', async () => {
    for (const text of ['garbage', '', 'abc:def', '12abc', ':::']) {
      const lock = lockFile();
      writeFileSync(lock, text);
      const old = new Date(Date.now() - 3_600_000);
      utimesSync(lock, old, old);
      expect(await withFileLock(lock, () => 'taken', { timeoutMs: 300 }), JSON.stringify(text)).toBe('taken');
    }
  });

  it('fresh non-numeric content is taken over within seconds, not 120 s', async () => {
    const lock = lockFile();
    writeFileSync(lock, 'not-a-pid');
    expect(await withFileLock(lock, () => 'taken', { timeoutMs: 6000 })).toBe('taken');
  });

  it('a live but unrelated pid: taken over at once when its start time differs, within seconds in the old pid:token shape', async () => {
    const s = await sleeper();
    try {
      const wrongStart = `${Number(startTime(s.pid) ?? 0) + 1}`;
      const a = lockFile();
      writeFileSync(a, `${s.pid}:${wrongStart}:${HEX}`);
      expect(await withFileLock(a, () => 'taken', { timeoutMs: 300 })).toBe('taken');
      const b = lockFile();
      writeFileSync(b, `${s.pid}:deadbeef`);
      expect(await withFileLock(b, () => 'taken', { timeoutMs: 6000 })).toBe('taken');
    } finally {
      await s.kill();
    }
  });

  it('a holder that dies (SIGKILL) frees the lock at once; while it lives, it excludes', async () => {
    const s = await sleeper();
    const lock = lockFile();
    writeFileSync(lock, `${s.pid}:${startTime(s.pid)}:${HEX}`);
    await expect(withFileLock(lock, () => 'no', { timeoutMs: 300 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(readFileSync(lock, 'utf8')).toContain(String(s.pid));
    await s.kill();
    expect(await withFileLock(lock, () => 'taken', { timeoutMs: 300 })).toBe('taken');
  });

  it('outloop itself writes pid:start:token', async () => {
    const lock = lockFile();
    await withFileLock(lock, () => {
      expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid}:${startTime(process.pid)}:[0-9a-f]{16}$`));
    });
  });
});
