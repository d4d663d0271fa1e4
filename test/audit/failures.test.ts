import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src/errors.js';
import { AuditLog } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

// Tests run as root, where a 0500 folder does not stop writes; these paths fail for root too.
async function appendError(file: string): Promise<AuditError> {
  const err = await new AuditLog(file, { lockTimeoutMs: 500 }).append(entry({ phase: 'start', exitCode: null })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuditError);
  return err as AuditError;
}

describe('append fails closed', () => {
  it('an ancestor of the path is a regular file (ENOTDIR)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state'), 'not a folder');
    const file = join(dir, 'state', 'outloop', 'audit.jsonl');
    const err = await appendError(file);
    expect(err.message).toBe(`cannot write the audit log ${file}: a parent of the path is not a folder (ENOTDIR); nothing was run`);
    expect(err.code).toBe('audit_unavailable');
    expect(err.exitCode).toBe(70);
  });

  it('the folder for the log is a regular file (EEXIST from mkdir)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state'), 'not a folder');
    const file = join(dir, 'state', 'audit.jsonl');
    const err = await appendError(file);
    expect(err.message).toBe(`cannot write the audit log ${file}: a file is in the way (EEXIST); nothing was run`);
  });

  it('audit.jsonl is a folder (EISDIR)', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    mkdirSync(file);
    const err = await appendError(file);
    expect(err.message).toBe(`cannot write the audit log ${file}: the path is a folder (EISDIR); nothing was run`);
  });

  it('audit.jsonl points at /dev/null, which would keep nothing', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    symlinkSync('/dev/null', file);
    const err = await appendError(file);
    expect(err.message).toBe(`cannot write the audit log ${file}: it is not a regular file; nothing was run`);
  });

  it('says when the run happened but its end could not be recorded', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state'), '');
    const file = join(dir, 'state', 'audit.jsonl');
    const err = await new AuditLog(file).append(entry({ phase: 'end', decision: 'allow', exitCode: 0 })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/; the run finished but its outcome was not recorded$/);
  });
});
