import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An inter-process lock on a path: `path` is created with O_EXCL and holds the owner's pid. Node has no
 * flock(2), and this is portable to every filesystem outloop's state lives on.
 *
 * A lock whose owner is gone (killed with SIGKILL inside the critical section) is taken over: the file is
 * removed only if it is still the same file (same inode) that named the dead pid, which keeps two
 * processes from both "stealing" the same stale lock in all but a vanishingly narrow window.
 */
export interface LockOptions {
  /** Give up after this long. */
  timeoutMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly ownerPid: number | undefined,
  ) {
    super(`timed out waiting for lock ${path}${ownerPid ? ` held by pid ${ownerPid}` : ''}`);
  }
}

export async function withFileLock<T>(path: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  const release = await acquire(path, opts.timeoutMs ?? 10_000);
  try {
    return await fn();
  } finally {
    release();
  }
}

async function acquire(path: string, timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (owner && !isAlive(owner.pid)) {
      // Remove only the exact stale file we inspected.
      try {
        if (statSync(path).ino === owner.ino) rmSync(path, { force: true });
      } catch {
        /* gone already: retry */
      }
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path, owner?.pid);
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 25);
  }
}

function readOwner(path: string): { pid: number; ino: number } | undefined {
  try {
    const ino = statSync(path).ino;
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    // An empty file is a lock being written right now, not a stale one.
    return Number.isFinite(pid) && pid > 0 ? { pid, ino } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
