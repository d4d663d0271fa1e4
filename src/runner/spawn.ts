import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as osConstants } from 'node:os';
import { execa } from 'execa';

/**
 * Run one child: argv without a shell, its own process group (so a timeout or a forwarded signal reaches
 * everything it started, exactly once), core dumps off, output streamed into the caller's sinks (the
 * redactors) with backpressure.
 */
export interface ChildSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string | undefined;
  timeoutMs: number;
}

export interface ChildSinks {
  stdout: Writable;
  stderr: Writable;
}

export interface ChildResult {
  /** The child's exit code, 128+N when killed by signal N, 124 on timeout. */
  exitCode: number;
  signal: string | undefined;
  timedOut: boolean;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
const KILL_GRACE_MS = 2000;

// `ulimit -c 0` then exec: the shell only sets the limit and is replaced by the real command; the argv
// arrives as "$@", a list, and is never parsed as shell text. Node cannot set RLIMIT_CORE itself.
const NO_CORE = ['-c', 'ulimit -c 0 2>/dev/null; exec "$@"', 'outloop-child'];

export async function runChild(spec: ChildSpec, sinks: ChildSinks): Promise<ChildResult> {
  const child = execa('/bin/sh', [...NO_CORE, ...spec.argv], {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    ...(spec.stdin === undefined ? { stdin: 'ignore' as const } : { input: spec.stdin }),
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    detached: true,
    reject: false,
    cleanup: false,
    windowsHide: true,
  });
  const pid = child.pid;
  const killGroup = (sig: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      /* the group is gone */
    }
  };

  // A signal sent to outloop goes to the child's group once; outloop then exits with the child's status.
  const forwarders = FORWARDED.map((sig) => {
    const fn = () => killGroup(sig);
    process.on(sig, fn);
    return [sig, fn] as const;
  });

  let timedOut = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    forceTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    forceTimer.unref();
  }, spec.timeoutMs);
  // Once the child itself exits, anything it left running in its group would hold our pipes open.
  child.on('exit', () => killGroup('SIGKILL'));

  try {
    const [result] = await Promise.all([
      child,
      pipeline(child.stdout!, sinks.stdout, { end: false }),
      pipeline(child.stderr!, sinks.stderr, { end: false }),
    ]);
    const signal = result.signal ?? undefined;
    let exitCode: number;
    if (timedOut) exitCode = 124;
    else if (signal) exitCode = 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 0);
    else exitCode = result.exitCode ?? 70;
    return { exitCode, signal, timedOut };
  } finally {
    clearTimeout(timer);
    if (forceTimer) clearTimeout(forceTimer);
    for (const [sig, fn] of forwarders) process.off(sig, fn);
  }
}
