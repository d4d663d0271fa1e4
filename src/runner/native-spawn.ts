import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { loadNative } from '../native.js';

/**
 * native/spawn (Linux): vfork and execve, the child's signal dispositions, core limit, death signal and
 * session set in between. node's spawn forks all of node (about 2 ms of an exec) and its module costs
 * ~1.2 ms to load, and what bwrap needed set before it started took one more exec, a shell. The child's
 * pipes are real pipes (node's are socket pairs); the output pipes hold 256 KiB, as much as node's socket
 * pairs did, so a slow reader holds a child up no sooner. They are read on node's event loop by the addon
 * (PipeReader below), not through net.Socket: node:net and the Readable machinery under it cost an exec
 * ~2 ms to load and first run, for bytes that go straight into the runner's sinks.
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
  /** A chunk, or null at the end (err 0) or on a read error (a negative errno). The handle owns fd. */
  read(fd: number, onRead: (chunk: Buffer | null, err?: number) => void): PipeHandle;
  readStart(h: PipeHandle): void;
  readStop(h: PipeHandle): void;
  close(h: PipeHandle): void;
  setNonBlocking(fd: number): boolean;
}

declare const pipeHandle: unique symbol;
type PipeHandle = { [pipeHandle]: true };

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

/**
 * What the runner reads a child's output through: a node Readable (child_process) or a PipeReader. Both
 * emit 'data' once a 'data' listener is attached, then 'end' and 'close', or 'error' and 'close'.
 */
export interface ChildOutput extends EventEmitter {
  pause(): unknown;
  resume(): unknown;
  /** Stop reading and close our end; 'close' follows, not 'end'. */
  destroy(): unknown;
}

/** The parts of a ChildProcess that the runner uses. */
export interface StartedChild {
  /** undefined when node's spawn failed (its 'error' rejects `exited`). */
  pid: number | undefined;
  stdin: Writable | null;
  stdout: ChildOutput;
  stderr: ChildOutput;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * One of the child's output pipes, read by the addon on node's loop: the few Readable behaviours the
 * runner relies on. Reading starts with the first 'data' listener, pause()/resume() stop and restart it
 * (the relay's backpressure), and after the end or destroy() the pipe is closed.
 */
class PipeReader extends EventEmitter implements ChildOutput {
  private readonly handle: PipeHandle;
  private flowing = false;
  private paused = false;
  private done = false;

  constructor(private readonly native: SpawnAddon, fd: number) {
    super();
    this.handle = native.read(fd, (chunk, err) => this.onRead(chunk, err ?? 0));
    this.on('newListener', (event) => {
      if (event !== 'data' || this.flowing) return;
      this.flowing = true;
      if (!this.paused && !this.done) native.readStart(this.handle);
    });
  }

  pause(): this {
    if (!this.paused && !this.done && this.flowing) this.native.readStop(this.handle);
    this.paused = true;
    return this;
  }

  resume(): this {
    if (this.paused && !this.done && this.flowing) this.native.readStart(this.handle);
    this.paused = false;
    return this;
  }

  destroy(): this {
    if (this.done) return this;
    this.done = true;
    this.native.close(this.handle);
    process.nextTick(() => this.emit('close'));
    return this;
  }

  private onRead(chunk: Buffer | null, err: number): void {
    if (this.done) return;
    if (chunk) return void this.emit('data', chunk);
    // The addon has closed the pipe already.
    this.done = true;
    if (err === 0) this.emit('end');
    else if (this.listenerCount('error')) {
      const code = errnoName(err);
      this.emit('error', Object.assign(new Error(`read ${code}`), { errno: err, code, syscall: 'read' }));
    }
    this.emit('close');
  }
}

function errnoName(errno: number): string {
  return process.getBuiltinModule('node:util').getSystemErrorName(errno);
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

/**
 * O_NONBLOCK on `fd`, as libuv sets it on a pipe node opens as process.stdout. False without the addon
 * (not Linux, not built) or when the descriptor refuses.
 */
export function setNonBlocking(fd: number): boolean {
  const a = spawnAddon();
  return a !== null && typeof a.setNonBlocking === 'function' && a.setNonBlocking(fd);
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
  const child: StartedChild = {
    pid,
    // Writing a recipe's stdin is node:net's job still (only recipes with stdin load it).
    stdin: inFd >= 0 ? new (process.getBuiltinModule('node:net').Socket)({ fd: inFd, readable: false, writable: true }) : null,
    stdout: new PipeReader(native, outFd),
    stderr: new PipeReader(native, errFd),
    exited,
  };
  // As node does for its children: nothing can read what is still queued for a child that is gone.
  void exited.then(() => child.stdin?.destroy());
  return child;
}

function spawnError(err: unknown, l: NativeLaunch): Error {
  const errno = (err as { errno?: unknown }).errno;
  if (typeof errno !== 'number') return err as Error;
  const code = errnoName(errno);
  return Object.assign(new Error(`spawn ${l.file} ${code}`), { errno, code, syscall: `spawn ${l.file}`, path: l.file, spawnargs: l.argv.slice(1) });
}
