import { spawn } from 'node:child_process';

/**
 * When outloop dies, even by SIGKILL (which it never sees), a wrapped command's whole process group must
 * go with it, including what the command started in the background. setpriv's death signal reaches only
 * the command itself; this covers the rest.
 *
 * A small shell waits on a pipe whose only writer is outloop. However outloop ends, the kernel closes
 * the pipe, `read` returns, and the shell kills the group. On a normal exit outloop kills the watchdog
 * first, so it never signals a process group id that may since have been reused.
 */
export function armGroupWatchdog(pgid: number): () => void {
  const wd = spawn('/bin/sh', ['-c', 'read _; kill -KILL "-$1" 2>/dev/null', 'outloop-watchdog', String(pgid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    // Its own group: a Ctrl-C or a signal forwarded to the command's group must not end it early.
    detached: true,
  });
  wd.on('error', () => {});
  wd.stdin!.on('error', () => {});
  // Neither the process nor the pipe may keep outloop running.
  wd.unref();
  (wd.stdin as unknown as { unref?: () => void }).unref?.();
  return () => {
    try {
      wd.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    wd.stdin!.destroy();
  };
}
