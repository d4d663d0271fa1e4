import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../util/process.js';

/**
 * The child's private working directory (also its HOME and TMPDIR): created 0700, recipe files written
 * 0600, removed when the run ends. The owner's pid is in the name so a later run can remove the folder
 * of a run whose outloop was killed before it could clean up, and no secret file outlives its run.
 */
const PREFIX = 'outloop-run-';

export interface RunDir {
  path: string;
  remove(): void;
}

export function createRunDir(files: Record<string, string>): RunDir {
  const path = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const remove = () => rmSync(path, { recursive: true, force: true });
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    remove();
    throw err;
  }
  return { path, remove };
}

/** Remove run folders left by outloop processes that no longer exist. */
export function sweepStaleRunDirs(): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number.parseInt(name.slice(PREFIX.length), 10);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

