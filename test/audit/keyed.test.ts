import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord, ZERO_HASH, hashRecord, verifyAuditFile } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const KEY = randomBytes(32);

async function keyedLog(n: number, key = KEY): Promise<{ file: string; records: AuditRecord[] }> {
  const file = join(tempDir(), 'audit.jsonl');
  const log = new AuditLog(file, { chainKey: key });
  const records: AuditRecord[] = [];
  for (let i = 0; i < n; i++) records.push(await log.append(entry({ tenant: `t${i}` })));
  return { file, records };
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, ls: string[]): void => writeFileSync(file, ls.map((l) => `${l}\n`).join(''));

/** What an agent with write access does: edit records, then recompute the whole unkeyed chain. */
function recomputeUnkeyed(file: string, edit: (r: Record<string, unknown>, i: number) => void): void {
  let prev = ZERO_HASH;
  const out = lines(file).map((l, i) => {
    const { chain: _chain, hash: _hash, ...r } = JSON.parse(l) as Record<string, unknown>;
    edit(r, i);
    r.prev = prev;
    r.hash = hashRecord(r);
    prev = r.hash as string;
    return JSON.stringify(r);
  });
  writeLines(file, out);
}

describe('keyed chain (HMAC-SHA256)', () => {
  it('marks each record keyed and verifies with the key', async () => {
    const { file, records } = await keyedLog(4);
    for (const r of records) expect(r.chain).toBe('hmac-sha256');
    expect(records[0]!.prev).toBe(ZERO_HASH);
    for (let i = 1; i < 4; i++) expect(records[i]!.prev).toBe(records[i - 1]!.hash);
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 4, keyed: 4 });
    // The head is beside the log, 0600, and names the last record.
    const head = JSON.parse(readFileSync(`${file}.head`, 'utf8')) as Record<string, unknown>;
    expect(head).toMatchObject({ v: 1, records: 4, bytes: statSync(file).size, hash: records[3]!.hash, chain: 'hmac-sha256' });
    expect(statSync(`${file}.head`).mode & 0o777).toBe(0o600);
  });

  it('an edited record with the whole chain recomputed the unkeyed way: tampered', async () => {
    const { file } = await keyedLog(5);
    recomputeUnkeyed(file, (r, i) => {
      if (i === 2) r.decision = 'deny';
    });
    const res = verifyAuditFile(file, { chainKey: KEY });
    expect(res.ok).toBe(false);
    expect(res.tampered).toMatch(/^the log was rewritten: record 5, where its head file.s last record was, has hash .*, but the head file says 5 record.*\(a recomputed chain\)$/);
  });

  it('the same with the head file removed too: still refused, the head is missing', async () => {
    const { file } = await keyedLog(3);
    // Keep one keyed record at the front, rewrite the rest unkeyed.
    const first = lines(file)[0]!;
    recomputeUnkeyed(file, () => {});
    const ls = lines(file);
    ls[0] = first;
    writeLines(file, ls);
    rmSync(`${file}.head`);
    const res = verifyAuditFile(file, { chainKey: KEY });
    expect(res.firstBad).toMatchObject({ line: 2, problem: expect.stringMatching(/an unkeyed record after keyed ones/) });
  });

  it('a chain recomputed under another key: HMAC mismatch at line 1', async () => {
    const { file } = await keyedLog(3);
    const forged = join(tempDir(), 'forged.jsonl');
    const log = new AuditLog(forged, { chainKey: randomBytes(32), headFile: false });
    for (const l of lines(file)) {
      const r = JSON.parse(l) as AuditRecord;
      await log.append({ ...r, decision: 'deny' });
    }
    writeFileSync(file, readFileSync(forged));
    expect(verifyAuditFile(file, { chainKey: KEY }).firstBad).toMatchObject({
      line: 1,
      problem: 'HMAC mismatch: the record was modified, or its chain recomputed without the key',
    });
  });

  it('one byte changed in a keyed record: HMAC mismatch on that line', async () => {
    const { file, records } = await keyedLog(3);
    const ls = lines(file);
    ls[1] = ls[1]!.replace('"tenant":"t1"', '"tenant":"t9"');
    writeLines(file, ls);
    expect(verifyAuditFile(file, { chainKey: KEY }).firstBad).toEqual({
      line: 2,
      id: records[1]!.id,
      problem: 'HMAC mismatch: the record was modified, or its chain recomputed without the key',
    });
  });

  it('keyed records and no key to check them: not intact', async () => {
    const { file } = await keyedLog(2);
    expect(verifyAuditFile(file).firstBad?.problem).toMatch(/no chain key was given/);
  });

  it('an old unkeyed log goes on verifying, and keyed records may follow it', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const old = new AuditLog(file, { headFile: false });
    await old.append(entry());
    await old.append(entry());
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 2 });
    const now = new AuditLog(file, { chainKey: KEY });
    await now.append(entry());
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 3, keyed: 1 });
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toMatchObject({ records: 3 });
  });
});

describe('the head outside the log', () => {
  it('emptied: tampered, naming what the head says it had', async () => {
    const { file, records } = await keyedLog(4);
    writeFileSync(file, '');
    const res = verifyAuditFile(file, { chainKey: KEY });
    expect(res).toMatchObject({ ok: false, records: 0 });
    expect(res.tampered).toBe(`the log ${file} is empty, but its head file says it had 4 record(s), ${statSync(`${file}.head`).size > 0 ? JSON.parse(readFileSync(`${file}.head`, 'utf8')).bytes : 0} bytes, last hash ${records[3]!.hash.slice(0, 12)}…`);
  });

  it('deleted: tampered, the log is missing', async () => {
    const { file } = await keyedLog(2);
    rmSync(file);
    expect(verifyAuditFile(file, { chainKey: KEY }).tampered).toMatch(/^the log .* is missing, but its head file says it had 2 record\(s\)/);
  });

  it('cut back to whole records: truncated, with both counts', async () => {
    const { file } = await keyedLog(5);
    writeLines(file, lines(file).slice(0, 3));
    const res = verifyAuditFile(file, { chainKey: KEY });
    expect(res.ok).toBe(false);
    expect(res.tampered).toMatch(/^the log was truncated: it has 3 record\(s\) \(\d+ bytes\), but its head file says 5 record\(s\)/);
  });

  it('an unkeyed log is held against its head too', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const log = new AuditLog(file);
    for (let i = 0; i < 3; i++) await log.append(entry());
    truncateSync(file, 0);
    expect(verifyAuditFile(file).tampered).toMatch(/is empty, but its head file says it had 3 record\(s\)/);
  });

  it('a head edited to match a shorter log: its MAC gives it away', async () => {
    const { file } = await keyedLog(4);
    const ls = lines(file).slice(0, 2);
    writeLines(file, ls);
    const head = JSON.parse(readFileSync(`${file}.head`, 'utf8')) as Record<string, unknown>;
    head.records = 2;
    head.bytes = statSync(file).size;
    head.hash = (JSON.parse(ls[1]!) as AuditRecord).hash;
    writeFileSync(`${file}.head`, JSON.stringify(head));
    expect(verifyAuditFile(file, { chainKey: KEY }).tampered).toMatch(/head file .* was modified: its MAC does not match/);
  });

  it('records appended after the head (a crash between the two writes) still verify', async () => {
    const { file } = await keyedLog(2);
    const head = readFileSync(`${file}.head`);
    await new AuditLog(file, { chainKey: KEY }).append(entry());
    writeFileSync(`${file}.head`, head);
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 3, keyed: 3 });
    // and the next append carries the count on by recounting once
    await new AuditLog(file, { chainKey: KEY }).append(entry());
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toMatchObject({ records: 4 });
  });

  it('a start record leaves the head to its end record: one head write per exec, and both are covered then', async () => {
    const { file } = await keyedLog(2);
    const before = readFileSync(`${file}.head`, 'utf8');
    const log = new AuditLog(file, { chainKey: KEY });
    const start = await log.append(entry({ phase: 'start' }));
    // Not written yet: one record past the head, which verify accepts (the run may still be going, or died).
    expect(readFileSync(`${file}.head`, 'utf8')).toBe(before);
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 3, keyed: 3 });
    const end = await log.append(entry({ id: start.id, phase: 'end' }));
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toMatchObject({ records: 4, bytes: statSync(file).size, hash: end.hash });
    // Cut back to before the end record: the head now says more than the log has.
    truncateSync(file, statSync(file).size - Buffer.byteLength(`${lines(file)[3]!}\n`));
    expect(verifyAuditFile(file, { chainKey: KEY }).tampered).toMatch(/truncated: it has 3 record\(s\).*head file says 4/);
  });

  it('interleaved runs (two processes\' starts and ends) keep an exact count in the head', async () => {
    const { file } = await keyedLog(1);
    const a = new AuditLog(file, { chainKey: KEY });
    const b = new AuditLog(file, { chainKey: KEY });
    const sa = await a.append(entry({ phase: 'start' }));
    const sb = await b.append(entry({ phase: 'start' }));
    await a.append(entry({ id: sa.id, phase: 'end' }));
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toMatchObject({ records: 4, bytes: statSync(file).size });
    await b.append(entry({ id: sb.id, phase: 'end' }));
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toMatchObject({ records: 5, bytes: statSync(file).size });
    expect(verifyAuditFile(file, { chainKey: KEY })).toEqual({ ok: true, records: 5, keyed: 5 });
  });
});
