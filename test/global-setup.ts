import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end tests drive the built CLI; build it once so they never run a stale dist/.
 *
 * Every temporary folder of the run (sandboxes, run folders, tmux sockets of tests that forget theirs)
 * goes under one TMPDIR made here, which the workers inherit, and which is removed when the run ends: a
 * test that fails before its own cleanup, or never had one, leaves nothing in /tmp.
 */
export default function setup(): () => void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const saved = process.env.TMPDIR;
  const dir = mkdtempSync(join(saved || tmpdir(), 'outloop-vitest-'));
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  };
}
