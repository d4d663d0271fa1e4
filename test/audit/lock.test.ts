import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src/errors.js';
import { AuditLog, verifyAuditFile } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not spawn');
  return child.pid;
}

describe('the append lock', () => {
  it('takes over a lock left by a dead process', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file, { lockTimeoutMs: 2_000 });
    await log.append(entry());
    writeFileSync(`${file}.lock`, String(deadPid()));
    const started = Date.now();
    await log.append(entry());
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 2 });
  });

  it('waits for a live holder, then times out with an AuditError naming the log and the holder', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${file}.lock`, String(process.pid));
    const started = Date.now();
    const err = await new AuditLog(file, { lockTimeoutMs: 300 })
      .append(entry({ phase: 'start', exitCode: null }))
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).message).toBe(
      `cannot write the audit log ${file}: timed out after 300 ms waiting for its lock ${file}.lock held by pid ${process.pid}; nothing was run`,
    );
    expect((err as AuditError).next).toContain(`delete ${file}.lock`);
    expect(existsSync(`${file}.lock`)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('proceeds as soon as a live holder releases', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${file}.lock`, String(process.pid));
    setTimeout(() => rmSync(`${file}.lock`), 200);
    const started = Date.now();
    await new AuditLog(file, { lockTimeoutMs: 5_000 }).append(entry());
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 1 });
  });

  // A process SIGKILLed between creating the lock file and writing its pid leaves it empty; about 1 in 10
  // random SIGKILLs of a busy appender did so. An old empty lock must not block the log forever.
  it('takes over an old empty lock left by a process killed before writing its pid', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${file}.lock`, '');
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, minuteAgo, minuteAgo);
    await new AuditLog(file, { lockTimeoutMs: 500 }).append(entry());
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 1 });
  });

  it('serializes concurrent appends within one process', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const logs = [new AuditLog(file), new AuditLog(file), new AuditLog(file)];
    await Promise.all(Array.from({ length: 60 }, (_, i) => logs[i % 3]!.append(entry({ seq: i }))));
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 60 });
  });
});
