import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../util/process.js';

/**
 * An inter-process lock on a path: `path` is created with O_EXCL and holds `pid:token`. Node has no
 * flock(2), and this works on every filesystem outloop's state lives on.
 *
 * A lock whose owner is gone (killed inside the critical section) is taken over, but only by a process
 * holding a second exclusive lock, `path.break`, and only if the lock still holds the dead owner's token.
 * Comparing inodes is not enough: ext4 hands a freed inode number straight to the next file, so two
 * processes could each "remove the stale lock" and both end up holding it. With the token check, a live
 * lock is never removed by anyone but its owner.
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

// A lock file is created empty and gets its owner a moment later; one still empty after this long belongs
// to a process that died in between.
const EMPTY_LOCK_STALE_MS = 2000;
// Outloop holds its locks for milliseconds; one this old is stale even if its pid was reused.
const ANY_LOCK_STALE_MS = 120_000;
// The break lock guards two file operations; one this old was left by a process that died there.
const BREAK_LOCK_STALE_MS = 5000;

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
  const token = `${process.pid}:${randomBytes(8).toString('hex')}`;
  let delay = 1;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (;;) {
    if (tryCreate(path, token)) {
      return () => {
        if (readText(path) === token) rmSync(path, { force: true });
      };
    }
    const owner = readOwner(path);
    if (owner && isStale(owner)) {
      breakStaleLock(path, owner.text);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path, owner?.pid || undefined);
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 25);
  }
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Remove `path` only if it still holds `staleText`, and only while holding `path.break`. */
function breakStaleLock(path: string, staleText: string): void {
  const breaker = `${path}.break`;
  if (!tryCreate(breaker, String(process.pid))) {
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_LOCK_STALE_MS) rmSync(breaker, { force: true });
    } catch {
      /* gone already */
    }
    return;
  }
  try {
    if (readText(path) === staleText) rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

interface Owner {
  text: string;
  pid: number;
  ageMs: number;
}

function readOwner(path: string): Owner | undefined {
  try {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    const text = readFileSync(path, 'utf8');
    const pid = text === '' ? 0 : Number.parseInt(text, 10);
    if (!Number.isFinite(pid) || pid < 0) return undefined;
    return { text, pid, ageMs };
  } catch {
    return undefined;
  }
}

function isStale(o: Owner): boolean {
  if (o.ageMs > ANY_LOCK_STALE_MS) return true;
  return o.pid === 0 ? o.ageMs > EMPTY_LOCK_STALE_MS : !isAlive(o.pid);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

