import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockTimeoutError, withFileLock } from '../../src/fs/lock.js';

let dir: string;
let worker: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-lock-'));
  worker = join(dir, 'worker.mjs');
  await build({ entryPoints: ['test/fs/fixtures/lock-worker.ts'], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'warning' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Keep n workers contending until the deadline, replacing each one that dies inside the lock. */
function runWorkers(n: number, ms: number, killPercent: number, lock: string, log: string): Promise<void> {
  const deadline = Date.now() + ms;
  const slot = (): Promise<void> =>
    new Promise<void>((resolve) => spawn(process.execPath, [worker, lock, log, '200', String(killPercent)], { stdio: 'ignore' }).on('exit', () => resolve())).then(() =>
      Date.now() < deadline ? slot() : undefined,
    );
  return Promise.all(Array.from({ length: n }, slot)).then(() => undefined);
}

/** Every `exit X` must come right after `enter X`: anything else means two processes held the lock. */
function overlaps(log: string): string[] {
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const bad: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('exit ')) return;
    const pid = line.slice(5);
    if (lines[i - 1] !== `enter ${pid}`) bad.push(`line ${i + 1}: ${line} after ${lines[i - 1]}`);
  });
  return bad;
}

describe('file lock', () => {
  it('never has two holders, even when holders are SIGKILLed inside the lock', async () => {
    const lock = join(dir, 'a.lock');
    const log = join(dir, 'a.log');
    writeFileSync(log, '');
    await runWorkers(8, 6000, 15, lock, log);
    const text = readFileSync(log, 'utf8');
    expect(text.match(/^enter /gm)?.length ?? 0).toBeGreaterThan(60);
    // Some holders died inside the lock, so takeovers really happened.
    expect((text.match(/^enter /gm)?.length ?? 0) - (text.match(/^exit /gm)?.length ?? 0)).toBeGreaterThan(0);
    expect(overlaps(log)).toEqual([]);
  }, 60_000);

  it('takes over a lock whose owner pid is gone, and times out on a live one', async () => {
    const lock = join(dir, 'b.lock');
    writeFileSync(lock, '999999:deadbeef');
    expect(await withFileLock(lock, () => 'took over')).toBe('took over');
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, `${process.pid}:live`);
    await expect(withFileLock(lock, () => 'no', { timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}:live`);
  });

  it('release never removes a lock that is no longer its own', async () => {
    const lock = join(dir, 'c.lock');
    await withFileLock(lock, () => writeFileSync(lock, 'someone-else'));
    expect(readFileSync(lock, 'utf8')).toBe('someone-else');
  });
});
