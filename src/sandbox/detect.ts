import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { defaultSignalEnv } from '../runner/contain.js';
import { findExecutable, SYSTEM_BIN, untrustedBecause } from '../runner/which.js';
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
export function findBwrap(path: string | undefined): string | undefined {
  const dirs = [...SYSTEM_BIN, ...(path ?? '').split(delimiter).filter((d) => isAbsolute(d))];
  for (const d of dirs) {
    const exe = findExecutable('bwrap', d, '/');
    if (exe && !untrustedBecause(exe)) return exe;
  }
  return undefined;
}

export type SandboxKind = 'bwrap' | 'seatbelt';
export type SandboxFact = { available: true; kind: SandboxKind; path: string } | { available: false; why: string };

const cache = new Map<string, SandboxFact>();

/**
 * `cacheFile` (in outloop's 0700 state folder) keeps a positive probe across processes for a few minutes,
 * so a run does not pay for two sandboxes. The caller's user can write that folder, so the file is a hint
 * and never names what runs:
 * - the bwrap that runs is found again each time (findBwrap: root's, in a folder chain only root can
 *   write), and the entry counts only for that very file (path, device, inode, size, mtime, ctime), the
 *   kernel and the user; a path written in the file is never used;
 * - only "available" is kept. A planted "available" costs nothing but a clear bwrap error at run time
 *   (the real bwrap still makes the sandbox or fails); an "unavailable" would turn `auto` into no sandbox,
 *   so it is probed afresh every time.
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
    const st = statSync(exe, { bigint: true });
    id = [exe, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, release(), process.getuid?.() ?? ''].join('|');
  } catch {
    return probe(path, platform);
  }
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { id?: unknown; at?: unknown; available?: unknown };
    const at = typeof c.at === 'number' ? c.at : NaN;
    if (c.id === id && c.available === true && Date.now() - at < CACHE_MS && Date.now() >= at) return { available: true, kind: 'bwrap', path: exe };
  } catch {
    /* none yet, or unreadable: probe */
  }
  const fact = probe(path, platform);
  if (!fact.available || fact.path !== exe) return fact;
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ id, at: Date.now(), available: true }), { mode: 0o600 });
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
  const args = bwrapArgv({ system: systemMounts(), extra: [], protect: [], inner: [...defaultSignalEnv(), '/bin/true'] });
  const r = spawnSync(exe, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000, encoding: 'utf8' });
  if (r.status === 0) return { available: true, kind: 'bwrap', path: exe };
  const msg = (r.stderr ?? '').trim().split('\n')[0] || r.error?.message || `exit ${r.status}`;
  return { available: false, why: `bwrap is installed but cannot make a sandbox here: ${msg}` };
}
