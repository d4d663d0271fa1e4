import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Exit } from '../errors.js';
import { BWRAP_SHIELD, SHIELDED_SIGNALS, unshielded } from './contain.js';
import { nativeSpawnAvailable, spawnNative, type ChildOutput, type StartedChild } from './native-spawn.js';
import { armGroupWatchdog } from './watchdog.js';
import { findExecutable } from './which.js';
import type { ChildSink } from './sink.js';

/**
 * Run one child: argv without a shell, its own process group (so a timeout or a forwarded signal reaches
 * everything it started, exactly once), core dumps off, output streamed into the caller's sinks (the
 * redactors) with backpressure.
 *
 * node:child_process directly rather than execa: importing execa 9 costs about 75 ms per call on these
 * machines (bench/startup), more than the whole start-up budget of `outloop exec`, and the parts of it
 * that matter here (group kill, signal forwarding, streaming) are the few lines below.
 */
export interface ChildSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string | undefined;
  /** Infinity (outloop run) for none. */
  timeoutMs: number;
  /** outloop run: the child reads outloop's own stdin (spec.stdin is then ignored). */
  inheritStdin?: boolean;
  /** Signals passed on to the child's group once each (default: FORWARDED). */
  forward?: readonly NodeJS.Signals[];
  /** The child's group is killed when outloop dies, even by SIGKILL (watchdog.ts; on Linux also a parent-death signal: native/spawn, or setpriv --pdeathsig). */
  dieWithParent?: boolean;
  /** Run it where everything it starts, even in another session, ends with it (runner/contain.ts; sandbox/run.ts applies it). */
  contain?: boolean;
  /**
   * Set by sandbox/run.ts when argv starts a bwrap pid namespace with --die-with-parent: all the child
   * starts is inside it and dies with it, so the group watchdog (one more process per exec) is not needed.
   */
  namespaced?: boolean;
}

export interface ChildSinks {
  stdout: ChildSink;
  stderr: ChildSink;
}

/** Emitted by a sink whose reader has gone away; the child then gets SIGPIPE, as in a bare pipeline. */
export const READER_GONE = 'destination-closed';
/** Emitted by a sink that will take no more (maxOutput reached): the child's group is killed. */
export const STOP_CHILD = 'stop-child';

export interface ChildResult {
  /** The child's exit code, 128+N when killed by signal N, 124 on timeout. */
  exitCode: number;
  signal: string | undefined;
  timedOut: boolean;
}

export const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
const KILL_GRACE_MS = 2000;
const PIPE_GRACE_MS = 500;
// How long output is still read after the child exited (or was SIGKILLed at the timeout): what it wrote
// is already in the pipe; only a process that left its group could write more.
const OUTPUT_GRACE_MS = 1000;

// `ulimit -c 0` then exec: the shell only sets the limit and is replaced by the real command; the argv
// arrives as "$@", a list, and is never parsed as shell text. Node cannot set RLIMIT_CORE itself.
const NO_CORE = ['-c', 'ulimit -c 0 2>/dev/null; exec "$@"', 'outloop-child'];

/**
 * The child inherits outloop's limits, so when ours already forbid core dumps (the usual default) the
 * wrapper shell, one extra exec per call, is not needed. Where that cannot be read, wrap.
 */
export function coreDumpsAlreadyOff(): boolean {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
    const [soft, hard] = line?.slice('Max core file size'.length).trim().split(/\s+/) ?? [];
    // The soft limit is what applies; the hard one must be 0 too, or the child could raise its soft limit.
    return soft === '0' && hard === '0';
  } catch {
    return false;
  }
}

/**
 * The argv that actually starts: the core-dump wrapper when needed and, for dieWithParent, setpriv in
 * front. PR_SET_PDEATHSIG survives the execs that follow (sh, then the command), so the kernel kills
 * the command itself the moment outloop dies, even by SIGKILL, which outloop never sees; the watchdog
 * (watchdog.ts) then ends the rest of its process group.
 */
export function wrappedArgv(spec: Pick<ChildSpec, 'argv' | 'dieWithParent' | 'namespaced'>): string[] {
  const argv = coreDumpsAlreadyOff() ? spec.argv : withoutCoreDumps(spec.argv);
  // A namespaced child is bwrap with --die-with-parent, which sets the same death signal on itself (the
  // shield shell execs it, so its parent is outloop) and on what it starts: setpriv would be one more exec
  // (about 1 ms) for nothing.
  const setpriv = spec.dieWithParent && !spec.namespaced && process.platform === 'linux' ? setprivPath() : undefined;
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...argv] : argv;
}

/** The sandbox's signal shield is a shell already: it sets the limit too, one exec fewer per call. */
function withoutCoreDumps(argv: string[]): string[] {
  const shielded = argv[0] === BWRAP_SHIELD[0] && argv[1] === BWRAP_SHIELD[1] && argv[2] === BWRAP_SHIELD[2];
  return shielded ? [BWRAP_SHIELD[0], '-c', `ulimit -c 0 2>/dev/null; ${BWRAP_SHIELD[2]}`, ...argv.slice(3)] : ['/bin/sh', ...NO_CORE, ...argv];
}

function setprivPath(): string | undefined {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * The child, started by native/spawn on Linux (native-spawn.ts: no fork of node, and no shell in front
 * of bwrap), else by node's child_process with the wrappers of wrappedArgv.
 */
function startChild(spec: ChildSpec, stdin: 'pipe' | 'ignore' | 'inherit'): StartedChild {
  if (nativeSpawnAvailable()) {
    const inner = unshielded(spec.argv);
    const argv = inner ?? spec.argv;
    const file = argv[0]!.includes('/') ? argv[0]! : findExecutable(argv[0]!, spec.env.PATH, spec.cwd) ?? argv[0]!;
    return spawnNative({ file, argv, env: spec.env, cwd: spec.cwd, stdin, ignore: inner ? SHIELDED_SIGNALS : [], dieWithParent: Boolean(spec.dieWithParent && !spec.namespaced) });
  }
  const [file, ...args] = wrappedArgv(spec) as [string, ...string[]];
  const child = spawn(file, args, { cwd: spec.cwd, env: spec.env, stdio: [stdin, 'pipe', 'pipe'], detached: true, windowsHide: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { pid: child.pid, stdin: child.stdin, stdout: child.stdout!, stderr: child.stderr!, exited };
}

export async function runChild(spec: ChildSpec, sinks: ChildSinks): Promise<ChildResult> {
  // A child in its own process group that reads a terminal would be stopped (SIGTTIN): outloop reads
  // the terminal and passes the bytes on instead. Any other stdin (file, pipe) is handed over as is.
  const pumpTty = Boolean(spec.inheritStdin && process.stdin.isTTY);
  const child = startChild(spec, spec.inheritStdin ? (pumpTty ? 'pipe' : 'inherit') : spec.stdin === undefined ? 'ignore' : 'pipe');
  const { exited } = child;
  if (child.stdin) {
    // A child that never reads its stdin closes the pipe; that is its business, not an error.
    child.stdin.on('error', () => {});
    if (pumpTty) process.stdin.pipe(child.stdin);
    else child.stdin.end(spec.stdin);
  }
  const pid = child.pid;
  const disarm = spec.dieWithParent && !spec.namespaced && pid !== undefined ? armGroupWatchdog(pid) : () => {};
  const killGroup = (sig: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      /* the group is gone */
    }
  };

  // Our ends of the child's output pipes. A process that left the group (setsid) but kept them open must
  // not keep outloop running: once the child is gone, or killed at the timeout, they are closed.
  let childGone = false;
  let outputClosed = false;
  let closeTimer: NodeJS.Timeout | undefined;
  const closeOutput = () => {
    if (outputClosed) return;
    outputClosed = true;
    child.stdout.destroy();
    child.stderr.destroy();
  };
  /** After a kill: the output is closed after `ms`, whatever still flows. */
  let hardCloseTimer: NodeJS.Timeout | undefined;
  const closeOutputSoon = (ms: number) => {
    hardCloseTimer ??= setTimeout(closeOutput, ms);
  };
  // After the child exits: what it wrote before is still in the pipes, and may wait there for our own
  // reader (backpressure) for any length of time. So the grace counts only idle time: no byte came and
  // no sink is waiting to drain. Only a straggler that holds the pipes and writes nothing is cut off.
  let lastData = Date.now();
  const noteData = () => {
    lastData = Date.now();
  };
  child.stdout.on('data', noteData);
  child.stderr.on('data', noteData);
  const closeOutputWhenIdle = (ms: number) => {
    const check = () => {
      const waiting = sinks.stdout.writableNeedDrain || sinks.stderr.writableNeedDrain;
      const idle = Date.now() - lastData;
      if (!waiting && idle >= ms) closeOutput();
      else closeTimer = setTimeout(check, waiting ? ms : ms - idle);
    };
    closeTimer ??= setTimeout(check, ms);
  };

  // A signal sent to outloop goes to the child's group once; outloop then exits with the child's status.
  // If the child has already exited (only a straggler holds the output), the signal ends the wait at once.
  const forwarders = (spec.forward ?? FORWARDED).map((sig) => {
    const fn = () => {
      killGroup(sig);
      if (childGone) closeOutput();
    };
    process.on(sig, fn);
    return [sig, fn] as const;
  });

  let timedOut = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const forceKill = () => {
    killGroup('SIGKILL');
    closeOutputSoon(OUTPUT_GRACE_MS);
  };
  const timer = Number.isFinite(spec.timeoutMs)
    ? setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        forceTimer = setTimeout(forceKill, childGone ? 0 : KILL_GRACE_MS);
      }, spec.timeoutMs)
    : undefined;
  // A child that ignores SIGPIPE (curl does) would go on while its pipe is still drained: after a short
  // grace it is ended as a timeout would be, and still reported as 141, the reader having gone.
  let pipeTimer: NodeJS.Timeout | undefined;
  let pipeKilled = false;
  for (const sink of [sinks.stdout, sinks.stderr]) {
    sink.once(READER_GONE, () => {
      killGroup('SIGPIPE');
      pipeTimer ??= setTimeout(() => {
        pipeKilled = true;
        killGroup('SIGTERM');
        forceTimer ??= setTimeout(forceKill, KILL_GRACE_MS);
      }, PIPE_GRACE_MS);
    });
  }
  for (const sink of [sinks.stdout, sinks.stderr]) sink.once(STOP_CHILD, () => killGroup('SIGKILL'));
  // Once the child itself exits, anything it left running in its group would hold our pipes open; what
  // left the group is not waited for beyond a moment of silence (closeOutputWhenIdle).
  void exited.then(() => {
    childGone = true;
    killGroup('SIGKILL');
    closeOutputWhenIdle(OUTPUT_GRACE_MS);
  }, () => {});
  // Closing the output on purpose ends the relay early; that is not an error.
  const relay = (from: ChildOutput, to: ChildSink) => relayInto(from, to, () => outputClosed);

  try {
    const [{ code, signal }] = await Promise.all([exited, relay(child.stdout, sinks.stdout), relay(child.stderr, sinks.stderr)]);
    let exitCode: number;
    if (timedOut) exitCode = Exit.timeout;
    else if (pipeKilled) exitCode = Exit.readerGone;
    else if (signal) exitCode = 128 + (osConstants.signals[signal] ?? 0);
    else exitCode = code ?? Exit.internal;
    return { exitCode, signal: signal ?? undefined, timedOut };
  } finally {
    clearTimeout(timer);
    if (forceTimer) clearTimeout(forceTimer);
    if (pipeTimer) clearTimeout(pipeTimer);
    if (closeTimer) clearTimeout(closeTimer);
    if (hardCloseTimer) clearTimeout(hardCloseTimer);
    for (const [sig, fn] of forwarders) process.off(sig, fn);
    disarm();
    if (pumpTty) {
      process.stdin.unpipe(child.stdin!);
      process.stdin.pause();
    }
  }
}

/**
 * The child's pipe into a sink, which is not ended (the caller writes after it), with backpressure: what
 * stream.pipeline(from, to, { end: false }) does here, in a few listeners rather than its machinery, which
 * cost every exec about 3 ms of its start-up. It settles when the pipe ends or is closed; an error on
 * either side rejects, unless `closedOnPurpose()` (the output was closed because the child is gone).
 */
function relayInto(from: ChildOutput, to: ChildSink, closedOnPurpose: () => boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // One drain listener at a time: node resumes a child's pipes itself when the child exits, so a
    // paused relay can see another write refused before the first drain.
    let waiting = false;
    const onData = (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        if (!waiting) {
          waiting = true;
          to.once('drain', onDrain);
        }
      }
    };
    const onDrain = () => {
      waiting = false;
      from.resume();
    };
    const settle = (err?: unknown) => {
      from.off('data', onData);
      from.off('end', onEnd);
      from.off('close', onEnd);
      from.off('error', onError);
      to.off('error', onSinkError);
      to.off('drain', onDrain);
      if (err !== undefined && !closedOnPurpose()) reject(err);
      else resolve();
    };
    const onEnd = () => settle();
    const onError = (err: unknown) => settle(err);
    const onSinkError = (err: unknown) => {
      from.destroy();
      settle(err);
    };
    from.on('data', onData);
    from.once('end', onEnd);
    from.once('close', onEnd);
    from.once('error', onError);
    to.once('error', onSinkError);
  });
}

/**
 * runChild's shape for a recipe with `pty: true`: one merged stream into the stdout sink (stderr stays
 * empty, as on a terminal), the recipe's stdin typed into the terminal, outloop's own stdin untouched.
 * node-pty and pty.ts load only here.
 */
export async function runChildInPty(spec: ChildSpec, sinks: ChildSinks): Promise<ChildResult> {
  const { runPty } = await import('./pty.js');
  return runPty(
    { argv: wrappedArgv(spec), env: spec.env, cwd: spec.cwd, timeoutMs: spec.timeoutMs, stdin: spec.stdin, inheritStdin: false, forward: spec.forward ?? FORWARDED, readerGoneEvent: READER_GONE, stopEvent: STOP_CHILD },
    sinks.stdout,
  );
}
