import { lstatSync, mkdtempSync, readdirSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSameProcess, ownStartTime } from '../util/process.js';

/**
 * The child's private working directory (also its HOME and TMPDIR): created 0700, recipe files written
 * 0600, removed when the run ends.
 *
 * Recipe `files:` are read by name from the working folder (`curl --json @body.json`), so they are real
 * files, not a memfd or a pipe. What a SIGKILLed outloop leaves behind is removed by the next outloop to
 * start, whatever the command (exec, check, a denial, a dry run, redact, doctor...): the owner's pid and
 * start time are in the folder's name, so a later process can tell a dead owner, and a pid the kernel has
 * since handed to another process, from a live run.
 */
const PREFIX = 'outloop-run-';

export interface RunDir {
  path: string;
  remove(): void;
}

let self: string | undefined;
function ownTag(): string {
  self ??= `${process.pid}-${ownStartTime() ?? 'x'}`;
  return self;
}

export function createRunDir(files: Record<string, string>): RunDir {
  const path = mkdtempSync(join(tmpdir(), `${PREFIX}${ownTag()}-`));
  const remove = () => removeRunDir(path, Object.keys(files));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    remove();
    throw err;
  }
  return { path, remove };
}

/**
 * The files outloop wrote, then the folder: most runs leave nothing else, and node 20's rmSync is a module
 * of its own (rimraf) that each exec would load for a nearly empty folder. Whatever else the child left
 * is removed recursively.
 */
function removeRunDir(path: string, written: string[]): void {
  try {
    for (const name of written) {
      try {
        unlinkSync(join(path, name));
      } catch (err) {
        // The child removed it: fine. Anything else (made it a folder) goes to the recursive removal.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    rmdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    rmSync(path, { recursive: true, force: true });
  }
}

/** The owner a run folder's name gives: pid, and start time when the name has one. */
export function runDirOwner(name: string): { pid: number; started: string | undefined } | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const parts = name.slice(PREFIX.length).split('-');
  const pid = Number(parts[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // `PID-START-XXXXXX` now, `PID-XXXXXX` before start times were recorded.
  const started = parts.length === 3 && parts[1] !== 'x' ? parts[1] : undefined;
  return { pid, started };
}

/** Remove run folders (ours: same uid) left by outloop processes that no longer exist. */
export function sweepStaleRunDirs(dir: string = tmpdir()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const owner = runDirOwner(name);
    if (!owner || owner.pid === process.pid || isSameProcess(owner.pid, owner.started)) continue;
    const path = join(dir, name);
    try {
      if (uid !== undefined && lstatSync(path).uid !== uid) continue;
      rmSync(path, { recursive: true, force: true });
      removed++;
    } catch {
      /* another outloop swept it first, or it is not ours to remove */
    }
  }
  return removed;
}
