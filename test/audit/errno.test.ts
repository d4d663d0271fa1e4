import * as realFs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditError } from '../../src/errors.js';
import { AuditLog, verifyAuditFile } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

/**
 * Disk-full and permission errors cannot be produced for root on a normal tmp folder, so node:fs is
 * wrapped: each test arms one failure for the audit file and checks what the log does with it.
 */
const faults = vi.hoisted(() => ({
  openFails: undefined as { path: string; code: string } | undefined,
  writeFailsAfter: undefined as { bytes: number; code: string } | undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated`), { code });
  return {
    ...fs,
    openSync: ((path: realFs.PathLike, ...rest: unknown[]) => {
      if (faults.openFails && String(path) === faults.openFails.path) throw errno(faults.openFails.code);
      return (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    }) as typeof fs.openSync,
    writeSync: ((fd: number, data: unknown, ...rest: unknown[]) => {
      // The lock writes its pid as a string; the audit line is a Buffer.
      const fault = faults.writeFailsAfter;
      if (fault && Buffer.isBuffer(data)) {
        faults.writeFailsAfter = undefined;
        fs.writeSync(fd, data.subarray(0, fault.bytes));
        throw errno(fault.code);
      }
      return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync,
  };
});

const tempDir = useTempDirs();
afterEach(() => {
  faults.openFails = undefined;
  faults.writeFailsAfter = undefined;
});

describe('OS errors become AuditError naming the log and the reason', () => {
  it('permission denied', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    faults.openFails = { path: file, code: 'EACCES' };
    await expect(new AuditLog(file).append(entry({ phase: 'start', exitCode: null }))).rejects.toThrow(
      new AuditError(`cannot write the audit log ${file}: permission denied (EACCES); nothing was run`),
    );
  });

  it('read-only file system', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    faults.openFails = { path: file, code: 'EROFS' };
    await expect(new AuditLog(file).append(entry({ decision: 'deny', code: 'x' }))).rejects.toThrow(
      `cannot write the audit log ${file}: read-only file system (EROFS); nothing was run`,
    );
  });

  it('disk full mid-line: the partial line is rolled back and the chain still verifies', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file);
    await log.append(entry());
    await log.append(entry());
    const before = realFs.readFileSync(file);
    faults.writeFailsAfter = { bytes: 40, code: 'ENOSPC' };
    const err = await log.append(entry({ phase: 'start', exitCode: null })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).message).toBe(`cannot write the audit log ${file}: no space left on device (ENOSPC); nothing was run`);
    expect(realFs.readFileSync(file)).toEqual(before);
    expect(realFs.existsSync(`${file}.lock`)).toBe(false);
    await log.append(entry());
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 3 });
  });
});
