import { appendFileSync, closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord } from '../../src/audit/index.js';
import { readLinesBackward } from '../../src/audit/lines.js';
import { recordsSince, tailAttempts } from '../../src/audit/tail.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

describe('reading the tail backwards', () => {
  it('yields every line, last first, across 64 KiB windows and with no final newline', () => {
    const file = join(tempDir(), 'x.jsonl');
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i * 7)}`);
    writeFileSync(file, lines.join('\n'));
    const fd = openSync(file, 'r');
    try {
      const back = [...readLinesBackward(fd, statSync(file).size)];
      expect(back.map((l) => l.text)).toEqual([...lines].reverse());
      expect(back[0]!.terminated).toBe(false);
      expect(back.slice(1).every((l) => l.terminated)).toBe(true);
      const text = readFileSync(file, 'utf8');
      for (const l of back) expect(text.slice(l.start, l.start + l.text.length)).toBe(l.text);
    } finally {
      closeSync(fd);
    }
  });

  it('the last n attempts, each with all its records, in file order, however they interleave', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file);
    const long = entry({ phase: 'start', exitCode: null, id: 'ol_long' });
    await log.append(long); // a run that started first and ends last
    for (let i = 0; i < 30; i++) await log.append(entry({ id: `ol_d${i}`, decision: 'deny', code: 'x' }));
    await log.append(entry({ id: 'ol_run', phase: 'start', exitCode: null, secrets: [] }));
    await log.append(entry({ id: 'ol_chk', mode: 'check', secrets: [] }));
    await log.append(entry({ id: 'ol_run', secrets: [] }));
    await log.append(entry({ id: 'ol_long', secrets: [] }));
    const ids = (rs: AuditRecord[]) => rs.map((r) => `${r.id}:${r.phase}`);
    expect(ids(tailAttempts(file, 2).records)).toEqual(['ol_run:start', 'ol_chk:end', 'ol_run:end']);
    expect(ids(tailAttempts(file, 3).records)).toEqual(['ol_d29:end', 'ol_run:start', 'ol_chk:end', 'ol_run:end']);
    // Every attempt: the same as reading all of it.
    expect(tailAttempts(file, 1000).records).toEqual(log.readAll());
    expect(tailAttempts(join(tempDir(), 'none.jsonl'), 5)).toEqual({ records: [], end: 0 });
  });

  it('--follow reads only what was appended, and only whole lines', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file);
    await log.append(entry());
    const { end } = tailAttempts(file, 10);
    const r = await log.append(entry());
    appendFileSync(file, '{"partial":');
    const since = recordsSince(file, end);
    expect(since.records).toEqual([r]);
    expect(since.end).toBe(statSync(file).size - '{"partial":'.length);
  });
});
