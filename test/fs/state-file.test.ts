import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { JsonStateFile } from '../../src/fs/state-file.js';
import { num, recordOf } from '../../src/fs/shape.js';

// The state files behind budgets and approvals fail closed: reading a damaged or locked one as empty
// would reset every budget or forget every denial.
const dir = mkdtempSync(join(tmpdir(), 'outloop-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counts(name: string, lockTimeoutMs?: number) {
  return new JsonStateFile<Record<string, number>>(join(dir, name), {
    what: 'the counts',
    code: 'counts_unavailable',
    next: 'Move it aside.',
    empty: () => ({}),
    shape: recordOf(num),
    ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
  });
}

describe('JsonStateFile', () => {
  it('a missing file is empty; a write round-trips, private to its owner', async () => {
    const f = counts('a.json');
    expect(f.read()).toEqual({});
    await f.locked(() => f.write({ x: 1 }));
    expect(f.read()).toEqual({ x: 1 });
    expect(statSync(f.file).mode & 0o777).toBe(0o600);
  });

  it('a damaged file stops the request (exit 70, its code, the file named) instead of reading as empty', () => {
    const f = counts('b.json');
    writeFileSync(f.file, '{"x": 1');
    const err = (() => {
      try {
        f.read();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InternalError);
    expect(err).toMatchObject({ code: 'counts_unavailable', exitCode: 70, next: 'Move it aside.' });
    expect((err as Error).message).toContain(f.file);
  });

  it('JSON of the wrong shape stops the request too, naming the first problem (never a silent reset)', () => {
    const f = counts('c.json');
    for (const [text, problem] of [['[1, 2]', '(top level): expected an object, got a list'], ['null', 'got null'], ['{"x": "1"}', 'x: expected a number, got a string']] as const) {
      writeFileSync(f.file, text);
      expect(() => f.read()).toThrow(expect.objectContaining({ code: 'counts_unavailable', exitCode: 70, next: 'Move it aside.', message: expect.stringContaining(problem) }));
    }
  });

  it('a lock held by a live process stops the request with its code, and nothing is written', async () => {
    const f = counts('d.json', 100);
    writeFileSync(`${f.file}.lock`, `${process.pid}:held`);
    await expect(f.locked(() => f.write({ y: 2 }))).rejects.toMatchObject({ code: 'counts_unavailable', exitCode: 70 });
    expect(f.read()).toEqual({});
  });
});
