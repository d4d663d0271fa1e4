import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAddon } from '../native.js';

/** Who is on the other end of a connection, as the kernel recorded it when the client connected. */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** native/peercred: SO_PEERCRED for the daemon, the subreaper calls for a session's root (session.ts), user lookups. */
export interface PeerAddon {
  peercred(fd: number): PeerCred;
  /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of this process's descendants are reparented to it. */
  subreaper(): void;
  /** Reap exited children except `keep` (libuv's own); how many, or -1 when there are no children at all. */
  reapAdopted(keep: number): number;
  /** dup2 of /dev/null over fds 1 and 2: a worker's output pipes end (EOF at the daemon) before its process exits. */
  endOutput(): void;
  /** setrlimit(RLIMIT_CORE, 0, 0): no core dump of this process or of what it starts. */
  noCoreDumps(): void;
  /** getpwnam_r: the uid of an OS user as NSS resolves it, null when there is none (users.ts). */
  userUid(name: string): number | null;
}

let addon: PeerAddon | undefined;

/** The N-API addon (native/peercred), built by `npm ci`'s install step. */
export function loadAddon(packageRoot: string): PeerAddon {
  addon ??= openAddon<PeerAddon>(join(packageRoot, 'native', 'peercred', 'build', 'Release', 'peercred.node'));
  return addon;
}

export function loadPeercred(packageRoot: string): (fd: number) => PeerCred {
  const a = loadAddon(packageRoot);
  return (fd) => a.peercred(fd);
}

/** The fields of /proc/<pid>/stat a session needs: the parent and the start time (clock ticks since boot). */
export interface ProcStat {
  pid: number;
  ppid: number;
  startTime: string;
}

/**
 * Parse one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the last ")".
 */
export function parseStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // After ")": state(3) ppid(4) ... starttime(22), so index 0 is field 3.
  const rest = line.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTime = rest[19];
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { pid, ppid, startTime };
}

export function readStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseStat(readFileSync(join(procRoot, String(pid), 'stat'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** pid, its parent, and so on up to init: each with its start time, so a reused pid does not pass for another. */
export function ancestry(pid: number, procRoot = '/proc'): ProcStat[] {
  const chain: ProcStat[] = [];
  const seen = new Set<number>();
  let cur: number = pid;
  while (cur > 0 && !seen.has(cur) && chain.length < 512) {
    seen.add(cur);
    const st = readStat(cur, procRoot);
    if (!st) break;
    chain.push(st);
    cur = st.ppid;
  }
  return chain;
}

/** The processes (zombies too) whose parent is ppid (one pass over /proc: for the end of a session, not a hot path). */
export function childrenOf(ppid: number, procRoot = '/proc'): number[] {
  const out: number[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name), procRoot);
    if (st?.ppid === ppid) out.push(st.pid);
  }
  return out;
}
