import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, sep } from 'node:path';

/**
 * The bubblewrap command line, built as data. The new root is an empty tmpfs: only the system's own
 * folders are bound in, read-only, so the user's home (~/.ssh, ~/.aws, ~/.config), /root, /work, the real
 * /tmp, the project and its .env files, and outloop's own store are simply not there unless a recipe
 * declares a path. The run's private folder is the only writable place the child keeps.
 *
 * What is deliberately NOT here:
 * - `--clearenv` / `--setenv`: bwrap's argv is readable by every local user (ps), and recipe env holds
 *   secrets. bwrap passes its own environment through, and outloop already spawns it with the child's
 *   explicit, minimal environment (runner/env.ts), so nothing ambient reaches the child either way.
 * - `--new-session`: outloop starts the child detached (setsid), so it already has no controlling
 *   terminal to push keystrokes into (TIOCSTI), and a new session would put the sandboxed processes out of
 *   reach of the group signals the runner sends (Ctrl-C, timeout). A pty runner gives the child its own
 *   pty, which is the terminal it may type into.
 * - `/run`: no D-Bus session bus, no keyring or agent socket (SSH_AUTH_SOCK) exists inside.
 */
export const SUPPORT_MOUNT = '/run/outloop';

/** Folders of the base system bound read-only (or recreated as the symlinks they are, /bin -> usr/bin). */
export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'] as const;

export type Mount =
  | { kind: 'ro' | 'rw'; src: string; dest: string }
  | { kind: 'symlink'; target: string; dest: string }
  | { kind: 'tmpfs'; dest: string };

export interface BwrapSpec {
  /** The base system, as found on this machine (see systemMounts). */
  system: Mount[];
  /** Further folders: the command's and node's own when outside the system, recipe-declared paths. */
  extra: { path: string; mode: 'ro' | 'rw' }[];
  /** The run's private folder: HOME, TMPDIR and cwd, bound at the same path (none for the probe). */
  runDir?: string;
  /** Outloop's side of the run (forwarder script, proxy socket), read-only at SUPPORT_MOUNT. */
  supportDir?: string;
  /** Outloop's own folders (config, state: the store, the audit key), masked if any bind would show them. */
  protect: string[];
  /** The command run inside. */
  inner: string[];
}

const within = (child: string, parent: string) => parent === '/' || child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
const depth = (p: string) => p.split('/').filter(Boolean).length;

export function bwrapArgv(spec: BwrapSpec): string[] {
  const mounts: Mount[] = [
    ...spec.system,
    { kind: 'tmpfs', dest: '/tmp' },
    ...spec.extra.map((e): Mount => ({ kind: e.mode, src: e.path, dest: e.path })),
    ...(spec.runDir ? [{ kind: 'rw' as const, src: spec.runDir, dest: spec.runDir }] : []),
    ...(spec.supportDir ? [{ kind: 'ro' as const, src: spec.supportDir, dest: SUPPORT_MOUNT }] : []),
  ];
  const shown = mounts.filter((m) => m.kind === 'ro' || m.kind === 'rw').map((m) => m.dest);
  for (const p of spec.protect) if (shown.some((s) => within(p, s) && s !== p) || shown.includes(p)) mounts.push({ kind: 'tmpfs', dest: p });
  // Parents before children, so a mask over a folder lands on top of the bind that showed it, and a bind
  // deeper inside a masked folder (a recipe folder inside $OUTLOOP_HOME) lands on top of the mask.
  // Equal depth keeps the order above (a later mask wins over a bind of the same path).
  const ordered = mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.dest) - depth(b.m.dest) || a.i - b.i).map((x) => x.m);

  const args = [
    '--unshare-all',
    '--die-with-parent',
    '--cap-drop', 'ALL',
    '--hostname', 'outloop-sandbox',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  for (const m of ordered) {
    if (m.kind === 'symlink') args.push('--symlink', m.target, m.dest);
    else if (m.kind === 'tmpfs') args.push('--tmpfs', m.dest);
    else args.push(m.kind === 'rw' ? '--bind' : '--ro-bind', m.src, m.dest);
  }
  args.push('--chdir', spec.runDir ?? '/', '--', ...spec.inner);
  return args;
}

/** The system folders as they are here: bound when real folders, recreated when symlinks, skipped when absent. */
export function systemMounts(dirs: readonly string[] = SYSTEM_DIRS): Mount[] {
  const out: Mount[] = [];
  for (const d of dirs) {
    try {
      const st = lstatSync(d);
      if (st.isSymbolicLink()) out.push({ kind: 'symlink', target: readlinkSync(d), dest: d });
      else if (st.isDirectory()) out.push({ kind: 'ro', src: d, dest: d });
    } catch {
      /* absent here */
    }
  }
  return out;
}

/**
 * Folders to bind so a program outside the system folders (node from nvm, a tool in /opt) can run: its
 * own folder and, when it is a symlink, the folder it really lives in. Read-only.
 */
export function programDirs(programs: readonly string[], system: readonly string[] = SYSTEM_DIRS): string[] {
  const dirs = new Set<string>();
  for (const p of programs) {
    if (!existsSync(p)) continue;
    for (const d of [dirname(p), dirname(realpathSync(p))]) {
      if (!system.some((s) => within(d, s))) dirs.add(d);
    }
  }
  // A folder inside another one already bound adds nothing.
  return [...dirs].filter((d) => ![...dirs].some((o) => o !== d && within(d, o)));
}
