import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { findExecutable } from '../runner/which.js';
import { bwrapArgv, systemMounts } from './bwrap.js';

/**
 * Is a sandbox available on this machine? bubblewrap installed is not enough (a container without user
 * namespaces, a kernel that forbids them): a probe runs `true` in the same kind of sandbox a child gets.
 * Cached per process; one exec probes once.
 *
 * Which bwrap: the caller's PATH is the agent's to set, so it may neither hide bwrap (turning `auto` into
 * no sandbox) nor supply a fake one that runs the child unconfined while the audit record says
 * "enforced". The system folders are searched first, and a PATH folder counts only when the binary and
 * every folder above it belong to root and are writable by no one else.
 */
const SYSTEM_BIN = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

export function findBwrap(path: string | undefined): string | undefined {
  const dirs = [...SYSTEM_BIN, ...(path ?? '').split(delimiter).filter((d) => isAbsolute(d))];
  for (const d of dirs) {
    const exe = findExecutable('bwrap', d, '/');
    if (exe && rootOwned(exe)) return exe;
  }
  return undefined;
}

function rootOwned(file: string): boolean {
  try {
    let p = realpathSync(file);
    for (;;) {
      const st = statSync(p);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
      const up = dirname(p);
      if (up === p) return true;
      p = up;
    }
  } catch {
    return false;
  }
}
export type SandboxKind = 'bwrap' | 'seatbelt';
export type SandboxFact = { available: true; kind: SandboxKind; path: string } | { available: false; why: string };

const cache = new Map<string, SandboxFact>();

/**
 * `cacheFile` (in outloop's own 0700 state folder, never a shared /tmp: a planted "unavailable" would turn
 * `auto` into no sandbox) keeps the probe's answer across processes for a few minutes, keyed on the bwrap
 * binary, the kernel and the user, so a run does not pay for two sandboxes. A stale "available" costs
 * nothing but a clear bwrap error at run time; a stale "unavailable" lasts at most CACHE_MS.
 */
const CACHE_MS = 10 * 60_000;

/** Where the probe's answer is kept between processes: every exec asks, and the probe starts a bwrap. */
export function probeCacheFile(stateDir: string): string {
  return join(stateDir, 'sandbox-probe.json');
}

export function detectSandbox(path: string | undefined, platform: NodeJS.Platform = process.platform, cacheFile?: string): SandboxFact {
  const key = `${platform}\0${path ?? ''}`;
  let fact = cache.get(key);
  if (!fact) cache.set(key, (fact = cacheFile ? cached(path, platform, cacheFile) : probe(path, platform)));
  return fact;
}

function cached(path: string | undefined, platform: NodeJS.Platform, file: string): SandboxFact {
  const exe = platform === 'linux' ? findBwrap(path) : undefined;
  if (platform !== 'linux' || !exe) return probe(path, platform);
  let id: string;
  try {
    const st = statSync(exe);
    id = [exe, st.size, st.mtimeMs, st.ino, release(), process.getuid?.() ?? ''].join('|');
  } catch {
    return probe(path, platform);
  }
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { id: string; at: number; fact: SandboxFact };
    if (c.id === id && Date.now() - c.at < CACHE_MS && Date.now() >= c.at) return c.fact;
  } catch {
    /* none yet, or unreadable: probe */
  }
  const fact = probe(path, platform);
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ id, at: Date.now(), fact }), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    /* no state folder yet: the next run probes again */
  }
  return fact;
}

function probe(path: string | undefined, platform: NodeJS.Platform): SandboxFact {
  if (platform === 'darwin') {
    const exe = findExecutable('sandbox-exec', '/usr/bin', '/');
    return exe ? { available: true, kind: 'seatbelt', path: exe } : { available: false, why: 'sandbox-exec is not in /usr/bin' };
  }
  if (platform !== 'linux') return { available: false, why: `no sandbox support on ${platform}` };
  const exe = findBwrap(path);
  if (!exe) return { available: false, why: 'bubblewrap (bwrap) is not installed (looked in /usr/bin, /bin, /usr/local/bin and root-owned PATH folders)' };
  const args = bwrapArgv({ system: systemMounts(), extra: [], protect: [], inner: [findExecutable('env', '/usr/bin:/bin', '/') ?? '/usr/bin/env', '--default-signal', '/bin/true'] });
  const r = spawnSync(exe, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000, encoding: 'utf8' });
  if (r.status === 0) return { available: true, kind: 'bwrap', path: exe };
  const msg = (r.stderr ?? '').trim().split('\n')[0] || r.error?.message || `exit ${r.status}`;
  return { available: false, why: `bwrap is installed but cannot make a sandbox here: ${msg}` };
}
