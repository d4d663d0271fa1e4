import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { randomBytes } from '../digest.js';
import { dirname } from 'node:path';
import { sleep } from '../util/sleep.js';
import { isSameProcess, ownStartTime } from '../util/process.js';

/**
 * An inter-process lock on a path: `path` is created with O_EXCL and holds `pid:start:token`, the owner's
 * pid and start time (util/process.ts) and a random token. Node has no flock(2) (a kernel lock would need a
 * native addon), and this works on every filesystem outloop's state lives on. It dies with its holder in
 * effect: the next process to want it sees that the pid is gone, or now belongs to a process with another
 * start time (a live but unrelated pid), and takes it over at once. A file that is not in this shape
 * (empty, half-written, planted, an older outloop's `pid:token`) is stale after EMPTY_LOCK_STALE_MS.
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

// A lock file is created empty and gets its owner a moment later; one still empty (or not in outloop's
// shape) after this long belongs to a process that died in between, or to no outloop at all.
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

const made = new Set<string>();
/** A lock's folder is made once per process: an exec takes the audit lock twice. */
function madeDir(dir: string): void {
  if (made.has(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  made.add(dir);
}

async function acquire(path: string, timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  const token = `${process.pid}:${ownStartTime() ?? 'x'}:${randomBytes(8).toString('hex')}`;
  let delay = 1;
  madeDir(dirname(path));
  for (;;) {
    let created: boolean;
    try {
      created = tryCreate(path, token);
    } catch (err) {
      // The folder went away since this process made it (a long-running MCP server): make it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !made.delete(dirname(path))) throw err;
      madeDir(dirname(path));
      continue;
    }
    if (created) {
      return () => {
        if (readText(path) === token) removeFile(path);
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
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_LOCK_STALE_MS) removeFile(breaker);
    } catch {
      /* gone already */
    }
    return;
  }
  try {
    if (readText(path) === staleText) removeFile(path);
  } finally {
    removeFile(breaker);
  }
}

interface Owner {
  text: string;
  /** 0 when the file is not in outloop's `pid:start:token` shape. */
  pid: number;
  /** The owner's start time, when the writer could read it. */
  started: string | undefined;
  /** An older outloop's shape: only the pid. */
  legacy: boolean;
  ageMs: number;
}

const OWNER = /^(\d+):(\d+|x):[0-9a-f]{16}$/;
// What older outloop versions wrote (`pid:token`, or a bare pid): the pid is known, its start time is not.
const LEGACY = /^(\d+)(?::[0-9a-z]*)?$/;

function readOwner(path: string): Owner | undefined {
  try {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    const text = readFileSync(path, 'utf8');
    const m = OWNER.exec(text);
    const legacy = m ? undefined : LEGACY.exec(text);
    const pid = Number((m ?? legacy)?.[1] ?? 0);
    return { text, pid: Number.isSafeInteger(pid) ? pid : 0, started: m && m[2] !== 'x' ? m[2] : undefined, legacy: Boolean(legacy), ageMs };
  } catch {
    return undefined;
  }
}

// Can start times be read here? Then a live owner must also match its recorded start time.
const startTimesReadable = () => ownStartTime() !== undefined;

function isStale(o: Owner): boolean {
  if (o.ageMs > ANY_LOCK_STALE_MS) return true;
  if (o.pid === 0) return o.ageMs > EMPTY_LOCK_STALE_MS;
  if (!isSameProcess(o.pid, o.started)) return true;
  // A live pid with no start time to check it against may be any process: held for milliseconds by
  // outloop, so past a moment it is not (an outloop lock of this version always records its start time).
  return o.started === undefined && (o.legacy || startTimesReadable()) && o.ageMs > EMPTY_LOCK_STALE_MS;
}

/** A lock file is a file: unlink it; gone already is fine. (rmSync is node's rimraf, a module of its own
 *  and two stats more, on each of an exec's two releases.) */
function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

