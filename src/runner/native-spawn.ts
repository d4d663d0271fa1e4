import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { loadNative } from '../native.js';

/**
 * native/spawn (Linux): vfork and execve, the child's signal dispositions, core limit, death signal and
 * session set in between. node's spawn forks all of node (about 2 ms of an exec) and its module costs
 * ~1.2 ms to load, and what bwrap needed set before it started took one more exec, a shell. The child's
 * pipes are real pipes (node's are socket pairs), read through net.Socket as node's are; the output pipes
 * hold 256 KiB, as much as node's socket pairs did, so a slow reader holds a child up no sooner.
 */
interface SpawnAddon {
  spawn(
    file: string,
    argv: string[],
    env: string[],
    cwd: string,
    stdio: [number, number, number],
    ignore: number[],
    flags: number,
    onExit: (code: number | null, signal: number | null) => void,
  ): [pid: number, stdin: number, stdout: number, stderr: number];
}

const NO_CORE = 1;
const PDEATHSIG = 2;
const SETSID = 4;
const PIPE = -1;
const DEV_NULL = -2;

export interface NativeLaunch {
  /** A path, not a bare name: the caller has searched PATH (execve is not execvp). */
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: 'pipe' | 'ignore' | 'inherit';
  /** Signals the child starts with ignored; every other one starts at its default. */
  ignore: readonly NodeJS.Signals[];
  /** SIGKILL to the child when outloop dies (PR_SET_PDEATHSIG), as setpriv --pdeathsig does. */
  dieWithParent: boolean;
}

/** The parts of a ChildProcess that the runner uses. */
export interface StartedChild {
  /** undefined when node's spawn failed (its 'error' rejects `exited`). */
  pid: number | undefined;
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let addon: SpawnAddon | null | undefined;

function spawnAddon(): SpawnAddon | null {
  if (addon === undefined) addon = process.platform === 'linux' ? loadNative<SpawnAddon>('spawn') : null;
  return addon && typeof addon.spawn === 'function' ? addon : null;
}

/**
 * Whether the runner uses it: Linux, with the addon built, unless OUTLOOP_NATIVE_SPAWN=0 (node's
 * child_process then starts the child, behind the same wrappers as on other platforms).
 */
export function nativeSpawnAvailable(): boolean {
  return process.env.OUTLOOP_NATIVE_SPAWN !== '0' && spawnAddon() !== null;
}

let signalNames: Map<number, NodeJS.Signals> | undefined;

/**
 * Start the child in a new session with core dumps off (soft and hard limit). Throws as node's spawn
 * reports through 'error': `spawn <file> ENOENT`, with code, errno, syscall, path and spawnargs.
 */
export function spawnNative(l: NativeLaunch): StartedChild {
  const native = spawnAddon();
  if (!native) throw new Error('native/spawn is not built');
  let onExit!: (code: number | null, signal: number | null) => void;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    onExit = (code, sig) => {
      signalNames ??= new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));
      resolve({ code, signal: sig === null ? null : (signalNames.get(sig) ?? null) });
    };
  });
  const env = Object.entries(l.env).map(([k, v]) => `${k}=${v}`);
  const stdin = l.stdin === 'pipe' ? PIPE : l.stdin === 'ignore' ? DEV_NULL : 0;
  const ignore = l.ignore.map((s) => osConstants.signals[s]);
  let fds: [number, number, number, number];
  try {
    fds = native.spawn(l.file, l.argv, env, l.cwd, [stdin, PIPE, PIPE], ignore, NO_CORE | SETSID | (l.dieWithParent ? PDEATHSIG : 0), onExit);
  } catch (err) {
    throw spawnError(err, l);
  }
  const [pid, inFd, outFd, errFd] = fds;
  const { Socket } = process.getBuiltinModule('node:net');
  const child: StartedChild = {
    pid,
    stdin: inFd >= 0 ? new Socket({ fd: inFd, readable: false, writable: true }) : null,
    stdout: new Socket({ fd: outFd, readable: true, writable: false }),
    stderr: new Socket({ fd: errFd, readable: true, writable: false }),
    exited,
  };
  // As node does for its children: nothing can read what is still queued for a child that is gone.
  void exited.then(() => child.stdin?.destroy());
  return child;
}

function spawnError(err: unknown, l: NativeLaunch): Error {
  const errno = (err as { errno?: unknown }).errno;
  if (typeof errno !== 'number') return err as Error;
  const code = process.getBuiltinModule('node:util').getSystemErrorName(errno);
  return Object.assign(new Error(`spawn ${l.file} ${code}`), { errno, code, syscall: `spawn ${l.file}`, path: l.file, spawnargs: l.argv.slice(1) });
}
