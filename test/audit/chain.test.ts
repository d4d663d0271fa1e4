import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src/errors.js';
import { AuditLog, type AuditRecord, ZERO_HASH, hashRecord, verifyAuditFile } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

async function logWith(n: number): Promise<{ file: string; log: AuditLog; records: AuditRecord[] }> {
  const file = join(tempDir(), 'state', 'audit.jsonl');
  const log = new AuditLog(file);
  const records: AuditRecord[] = [];
  for (let i = 0; i < n; i++) records.push(await log.append(entry({ tenant: `t${i}` })));
  return { file, log, records };
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, ls: string[]): void => writeFileSync(file, ls.map((l) => `${l}\n`).join(''));

describe('append and verify', () => {
  it('writes one chained JSON line per record and verifies', async () => {
    const { file, log, records } = await logWith(4);
    const raw = lines(file);
    expect(raw).toHaveLength(4);
    const parsed = raw.map((l) => JSON.parse(l) as AuditRecord);
    expect(parsed).toEqual(records);
    expect(parsed[0]?.prev).toBe(ZERO_HASH);
    for (let i = 1; i < parsed.length; i++) expect(parsed[i]?.prev).toBe(parsed[i - 1]?.hash);
    for (const r of parsed) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hashRecord(r)).toBe(r.hash);
      expect(r.secretExposed).toBe(false);
      expect(Number.isNaN(Date.parse(r.ts))).toBe(false);
    }
    expect(log.readAll()).toEqual(records);
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 4 });
  });

  it('keeps caller extras and ts, but owns secretExposed, prev and hash', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const r = await new AuditLog(file).append({
      ...entry({ ts: '2025-01-02T03:04:05.000Z', params: { repo: 'x' }, dryRun: true, argv: ['gh', 'repo', 'list'] }),
      secretExposed: true,
      prev: 'f'.repeat(64),
      hash: 'e'.repeat(64),
      code: undefined,
    });
    const onDisk = JSON.parse(lines(file)[0] ?? '') as Record<string, unknown>;
    expect(onDisk).toEqual(r);
    expect(onDisk).toMatchObject({ ts: '2025-01-02T03:04:05.000Z', params: { repo: 'x' }, dryRun: true, secretExposed: false, prev: ZERO_HASH });
    expect(onDisk.argv).toEqual(['gh', 'repo', 'list']);
    expect('code' in onDisk).toBe(false);
    expect(onDisk.hash).toBe(hashRecord(onDisk));
  });

  it('creates the file 0600 in a folder made 0700', async () => {
    const { file } = await logWith(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
  });

  it('chains across a line longer than the tail window it reads first', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file);
    await log.append(entry());
    await log.append(entry({ argv: ['echo', 'x'.repeat(300_000)] }));
    await log.append(entry());
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 3 });
  });

  it('refuses an entry with an unknown mode', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const bad = entry({ mode: 'shell' as never });
    await expect(new AuditLog(file).append(bad)).rejects.toThrow(/audit log .*unknown mode "shell"/);
  });
});

describe('verify names the first bad record', () => {
  it('a modified field: that line, hash mismatch', async () => {
    const { file, records } = await logWith(5);
    const ls = lines(file);
    ls[2] = ls[2]!.replace('"tenant":"t2"', '"tenant":"evil"');
    writeLines(file, ls);
    expect(verifyAuditFile(file)).toEqual({
      ok: false,
      records: 5,
      firstBad: { line: 3, id: records[2]!.id, problem: 'hash mismatch: record was modified' },
    });
  });

  it('a modified field with its hash recomputed: the next line no longer links', async () => {
    const { file, records } = await logWith(5);
    const ls = lines(file);
    const forged = { ...records[2]!, decision: 'deny' };
    forged.hash = hashRecord(forged);
    ls[2] = JSON.stringify(forged);
    writeLines(file, ls);
    expect(verifyAuditFile(file).firstBad).toEqual({
      line: 4,
      id: records[3]!.id,
      problem: 'prev does not match the previous record: a record was removed or reordered',
    });
  });

  it('a deleted line: the line after it', async () => {
    const { file, records } = await logWith(5);
    const ls = lines(file);
    ls.splice(2, 1);
    writeLines(file, ls);
    const result = verifyAuditFile(file);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ line: 3, id: records[3]!.id });
    expect(result.firstBad?.problem).toMatch(/^prev does not match the previous record/);
  });

  it('a deleted first line: the new first line', async () => {
    const { file, records } = await logWith(3);
    writeLines(file, lines(file).slice(1));
    expect(verifyAuditFile(file).firstBad).toMatchObject({ line: 1, id: records[1]!.id });
  });

  it('reordered lines: the first out of place', async () => {
    const { file, records } = await logWith(5);
    const ls = lines(file);
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    writeLines(file, ls);
    expect(verifyAuditFile(file).firstBad).toMatchObject({ line: 2, id: records[2]!.id });
  });

  it('a line that is not JSON', async () => {
    const { file } = await logWith(3);
    const ls = lines(file);
    ls[1] = '{"id": "ol_x", garbage';
    writeLines(file, ls);
    expect(verifyAuditFile(file)).toEqual({ ok: false, records: 3, firstBad: { line: 2, problem: 'not valid JSON' } });
  });

  it('a missing file is an empty valid log', () => {
    expect(verifyAuditFile(join(tempDir(), 'none.jsonl'))).toEqual({ ok: true, records: 0 });
    expect(new AuditLog(join(tempDir(), 'none.jsonl')).readAll()).toEqual([]);
  });
});

describe('append refuses a damaged tail', () => {
  it('a truncated last line: AuditError naming the line, file untouched', async () => {
    const { file, log } = await logWith(5);
    truncateSync(file, statSync(file).size - 20);
    const before = readFileSync(file);
    const err = await log.append(entry({ phase: 'start', exitCode: null, durationMs: null })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).message).toContain(`the audit log ${file} is damaged at line 5 (the last line was cut short`);
    expect((err as AuditError).message).toContain('outloop audit verify');
    expect((err as AuditError).message).toMatch(/nothing was run$/);
    expect(readFileSync(file)).toEqual(before);
    expect(verifyAuditFile(file).firstBad).toEqual({ line: 5, problem: 'not valid JSON (the last line was cut short)' });
    // readAll still shows everything that can be read.
    expect(log.readAll()).toHaveLength(4);
  });

  it('a complete last record missing only its newline', async () => {
    const { file, log, records } = await logWith(3);
    truncateSync(file, statSync(file).size - 1);
    await expect(log.append(entry())).rejects.toThrow(/damaged at line 3 \(the last line was cut short/);
    expect(verifyAuditFile(file).firstBad).toMatchObject({ line: 3, id: records[2]!.id, problem: expect.stringMatching(/no newline/) });
  });

  it('a last line that is JSON without a hash', async () => {
    const { file, log } = await logWith(2);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"id":"x"}\n`);
    await expect(log.append(entry())).rejects.toThrow(/damaged at line 3 \(not an audit record: no valid hash\)/);
  });

  it('a blank last line', async () => {
    const { file, log } = await logWith(2);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n`);
    await expect(log.append(entry())).rejects.toThrow(/damaged at line 3 \(empty line\)/);
  });
});
