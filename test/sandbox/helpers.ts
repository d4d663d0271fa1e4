/**
 * Whether bubblewrap can make a sandbox here, for suites that need one. Elsewhere they skip, except with
 * CI=true, where a missing bwrap is a failure rather than a silent skip (.ci/run installs bubblewrap).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { detectSandbox } from '../../src/sandbox/detect.js';

export const CI = process.env.CI === 'true';
export const bwrap = detectSandbox(process.env.PATH, 'linux');
export const skipWithoutBwrap = process.platform !== 'linux' || (!bwrap.available && !CI);

export function requireBwrap(): void {
  if (!bwrap.available) throw new Error(`bubblewrap is required in CI (apt-get install bubblewrap): ${bwrap.why}`);
}

/** Host pids of processes whose command line contains `marker`. */
export function pidsWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (cmd.includes(marker) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}
