import { spawnSync } from 'node:child_process';
import type { ChildSink } from './sink.js';
import { InternalError } from '../errors.js';
import type { ChildResult } from './spawn.js';

/**
 * Run one child under a pseudo-terminal (node-pty), for `outloop run` on a terminal and recipes with
 * `pty: true`. The child sees a real terminal (colours, prompts, line editing, full-screen programs); its
 * one merged output stream goes through the caller's sink (the redactor) before it reaches ours.
 *
 * The terminal is the child's, not outloop's: outloop's stdin goes into raw mode and every byte passes
 * through unchanged, so Ctrl-C is a ^C byte that the pty's line discipline turns into one SIGINT for the
 * child's foreground group. outloop does not also forward SIGINT from a keypress (raw mode means the
 * terminal sends it none). Signals sent to outloop by other processes (kill) are passed on once, and a
 * window size change becomes pty.resize, which the kernel reports to the child as SIGWINCH. Ctrl-Z is the
 * exception: it suspends the child and outloop together, as a job of the person's shell (see suspend).
 *
 * node-pty is a native addon loaded with a dynamic import only here, so `outloop exec`'s start-up never
 * pays for it. This module imports nothing at run time from the rest of outloop but errors.ts (callers
 * hand in the wrapped argv, the signals and the sink's reader-gone event): esbuild gives each set of
 * entry points that share a module its own chunk, so sharing spawn.ts or node:os with the hot path here
 * would add chunks that every `outloop exec` loads. errors.ts is shared by every chunk already.
 */
export interface PtySpec {
  /** Already wrapped (spawn.ts wrappedArgv). */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Infinity for none. */
  timeoutMs: number;
  /** Pass outloop's stdin to the child (run); otherwise the child's input is empty (exec recipes). */
  inheritStdin: boolean;
  /** Text typed into the terminal before anything else (a recipe's stdin). */
  stdin?: string | undefined;
  /** Signals passed on to the child's group once each (spawn.ts FORWARDED). */
  forward: readonly NodeJS.Signals[];
  /** The event a sink emits when its reader is gone (spawn.ts READER_GONE). */
  readerGoneEvent: string;
  /** The event a sink emits when it will take no more, maxOutput reached (spawn.ts STOP_CHILD): the group is killed. */
  stopEvent?: string;
  /** Arms something that ends the child's process group if outloop dies (watchdog.ts); returns its disarm. */
  watch?: (pgid: number) => () => void;
}

type NodePty = typeof import('node-pty');

const KILL_GRACE_MS = 2000;

/** Terminal modes to restore, once, on every way out (normal exit, error, signal, crash). */
function rawStdin(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  const wasRaw = stdin.isRaw;
  stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode(wasRaw);
    } catch {
      /* the terminal is gone */
    }
  };
  // Last resort: process.exit() from elsewhere (a crash handler) still leaves the terminal usable.
  process.once('exit', restore);
  return () => {
    process.off('exit', restore);
    restore();
  };
}

/**
 * Output post-processing off on outloop's own terminal while the child's terminal is relayed: the child's
 * bytes already went through its pty's line discipline (its onlcr made CR LF where it wanted), and a
 * second pass would turn the bare LF a full-screen program uses as "cursor down" into CR LF, shearing its
 * screen to column 0. Node's raw mode leaves OPOST and ONLCR on, so stty does it (as ssh's raw mode does).
 */
function rawStdout(): () => void {
  if (!process.stdout.isTTY) return () => {};
  // stty works on its stdin: give it outloop's stdout, the terminal whose modes change.
  const stty = (...args: string[]) => spawnSync('stty', args, { stdio: [1, 'pipe', 'ignore'], encoding: 'utf8' });
  const now = stty('-a');
  // Only OPOST is touched, and only put back if it was on: raw mode (rawStdin) restores the rest, and the
  // two restores then commute, whichever runs first on the way out.
  if (now.status !== 0 || !/(^|\s)opost(\s|$)/.test(now.stdout) || stty('-opost').status !== 0) return () => {};
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stty('opost');
  };
  process.once('exit', restore);
  return () => {
    process.off('exit', restore);
    restore();
  };
}

export async function runPty(spec: PtySpec, sink: ChildSink): Promise<ChildResult> {
  let pty: NodePty;
  try {
    pty = await import('node-pty');
  } catch (err) {
    throw new InternalError(`node-pty could not be loaded (${(err as Error).message})`, {
      code: 'pty_unavailable',
      cause: err,
      next: 'Reinstall outloop (node-pty is a native module built for this Node.js), or run with --no-pty.',
    });
  }
  const [file, ...args] = spec.argv as [string, ...string[]];
  const size = () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
  const env = { TERM: 'xterm-256color', ...spec.env };
  const term = pty.spawn(file, args, { name: env.TERM, ...size(), cwd: spec.cwd, env, encoding: null } as Parameters<NodePty['spawn']>[2]);

  const cleanups: (() => void)[] = [];
  if (spec.watch) cleanups.push(spec.watch(term.pid));
  const cleanup = () => {
    for (const fn of cleanups.splice(0).reverse()) fn();
  };
  try {
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-term.pid, sig);
      } catch {
        /* the group is gone */
      }
    };

    // Output: through the sink, with backpressure back to the pty.
    let readerGone = false;
    sink.once(spec.readerGoneEvent, () => {
      readerGone = true;
      killGroup('SIGPIPE');
    });
    // maxOutput: the cap drops the rest, but a child left running would go on working (and writing) unseen.
    if (spec.stopEvent) sink.once(spec.stopEvent, () => killGroup('SIGKILL'));
    const data = term.onData((d: string | Buffer) => {
      if (readerGone) return;
      const buf = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
      if (!sink.write(buf)) {
        term.pause();
        sink.once('drain', () => term.resume());
      }
    });
    cleanups.push(() => data.dispose());

    // Input.
    if (!spec.inheritStdin) {
      // Like a recipe's piped stdin: the text, then end-of-file (^D ends a line in progress, a second
      // one at the start of a line is EOF), so `curl -K -` and the like do not wait forever.
      const text = spec.stdin ?? '';
      term.write(`${text}${text === '' || text.endsWith('\n') ? '' : '\x04'}\x04`);
    }
    if (spec.inheritStdin) {
      let modes = [rawStdin(), rawStdout()];
      const restoreModes = () => {
        for (const fn of modes.splice(0).reverse()) fn();
      };
      cleanups.push(restoreModes);
      // Ctrl-Z on outloop's terminal: in raw mode it is a byte, and passed through it would stop only the
      // child, leaving outloop waiting on a stopped child with the shell never told (it "hangs"). So, as
      // sudo does: stop the child's group, give the terminal its modes back, and stop outloop itself (the
      // shell reports the job stopped). On `fg` (SIGCONT): raw again, the child continues, and SIGWINCH
      // makes a full-screen program redraw.
      const suspend = () => {
        // SIGSTOP, not SIGTSTP: the child's group leads a session whose parent (outloop) is outside it, an
        // orphaned group, and the kernel discards a default-action SIGTSTP sent to one.
        killGroup('SIGSTOP');
        restoreModes();
        process.once('SIGCONT', () => {
          modes = [rawStdin(), rawStdout()];
          killGroup('SIGCONT');
          killGroup('SIGWINCH');
        });
        process.kill(process.pid, 'SIGSTOP');
      };
      const SUSPEND = 0x1a;
      const onIn = (d: Buffer) => {
        const at = process.stdin.isTTY ? d.indexOf(SUSPEND) : -1;
        if (at < 0) return void term.write(d as unknown as string);
        if (at > 0) term.write(d.subarray(0, at) as unknown as string);
        suspend();
        if (at + 1 < d.length) term.write(d.subarray(at + 1) as unknown as string);
      };
      // Not a terminal (a pipe or file given with --pty): its end is an end-of-file keypress.
      const onEnd = () => term.write('\x04');
      process.stdin.on('data', onIn);
      process.stdin.once('end', onEnd);
      process.stdin.resume();
      cleanups.push(() => {
        process.stdin.off('data', onIn);
        process.stdin.off('end', onEnd);
        process.stdin.pause();
      });
    }

    // Window size.
    const onWinch = () => {
      const s = size();
      try {
        term.resize(s.cols, s.rows);
      } catch {
        /* exited meanwhile */
      }
    };
    process.on('SIGWINCH', onWinch);
    cleanups.push(() => process.off('SIGWINCH', onWinch));

    // Signals from other processes: once each, to the child's group (it leads its own session).
    for (const sig of spec.forward) {
      const fn = () => killGroup(sig);
      process.on(sig, fn);
      cleanups.push(() => process.off(sig, fn));
    }

    let timedOut = false;
    if (Number.isFinite(spec.timeoutMs)) {
      let force: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        force = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      }, spec.timeoutMs);
      cleanups.push(() => {
        clearTimeout(timer);
        if (force) clearTimeout(force);
      });
    }

    const { exitCode, signal } = await new Promise<{ exitCode: number; signal?: number }>((resolve) => {
      term.onExit(resolve);
    });
    // Anything the child left behind in its session would keep writing to a terminal nobody reads.
    killGroup('SIGKILL');
    return {
      exitCode: timedOut ? 124 : signal ? 128 + signal : exitCode,
      // node-pty reports the number only; the exit code carries it (128+N).
      signal: signal ? `signal ${signal}` : undefined,
      timedOut,
    };
  } finally {
    cleanup();
  }
}

