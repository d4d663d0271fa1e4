import { spawnSync } from 'node:child_process';
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

export function detectSandbox(path: string | undefined, platform: NodeJS.Platform = process.platform): SandboxFact {
  const key = `${platform}\0${path ?? ''}`;
  let fact = cache.get(key);
  if (!fact) cache.set(key, (fact = probe(path, platform)));
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
