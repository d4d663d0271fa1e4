import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { findExecutable } from '../runner/which.js';
import { bwrapArgv, systemMounts } from './bwrap.js';

/**
 * Is a sandbox available on this machine? bubblewrap on PATH is not enough (a container without user
 * namespaces, a kernel that forbids them): a probe runs `true` in the same kind of sandbox a child gets.
 * Cached per process; one exec probes once.
 */
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

export function detectSandbox(path: string | undefined, platform: NodeJS.Platform = process.platform, cacheFile?: string): SandboxFact {
  const key = `${platform}\0${path ?? ''}`;
  let fact = cache.get(key);
  if (!fact) cache.set(key, (fact = cacheFile ? cached(path, platform, cacheFile) : probe(path, platform)));
  return fact;
}

function cached(path: string | undefined, platform: NodeJS.Platform, file: string): SandboxFact {
  const exe = platform === 'linux' ? findExecutable('bwrap', path, '/') : undefined;
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
  const exe = findExecutable('bwrap', path, '/');
  if (!exe) return { available: false, why: 'bubblewrap (bwrap) is not on PATH' };
  const args = bwrapArgv({ system: systemMounts(), extra: [], protect: [], inner: ['env', '--default-signal', 'true'] });
  const r = spawnSync(exe, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000, encoding: 'utf8' });
  if (r.status === 0) return { available: true, kind: 'bwrap', path: exe };
  const msg = (r.stderr ?? '').trim().split('\n')[0] || r.error?.message || `exit ${r.status}`;
  return { available: false, why: `bwrap is installed but cannot make a sandbox here: ${msg}` };
}
