import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type AuditEntry, newAuditId } from '../../src/audit/index.js';

/** A fresh folder per call, removed after the test. */
export function useTempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'outloop-audit-'));
    made.push(dir);
    return dir;
  };
}

export function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: newAuditId(),
    phase: 'end',
    mode: 'exec',
    project: 'demo',
    tenant: 'acme',
    service: 'github',
    recipe: 'list-repos',
    decision: 'allow',
    exitCode: 0,
    durationMs: 12,
    redactions: 0,
    ...over,
  };
}
