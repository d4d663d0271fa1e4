import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { useKept } from '../config/kept.js';
import { fixHomes } from '../paths.js';
import { enterSystemMode } from './mode.js';
import { loadAddon } from './peer.js';
import { systemHomes, systemPaths } from './paths.js';
import { warmUp } from './warm.js';

/**
 * One request in the daemon, in a process of its own: the same command code as personal mode
 * (src/cli/main.ts, the broker pipeline), so flags, output, exit codes and audit fields are identical by
 * construction. The daemon starts it ahead of time (warmed up by warm.ts, waiting), hands it one job over IPC and
 * relays its stdout and stderr. A worker serves one request and exits, so nothing of one caller's request
 * (cwd, tenant, stdin) is left for the next.
 *
 * Homes come from the install prefix given on the worker's command line by the daemon, and the
 * environment is the daemon's fixed one plus the few presentation variables the protocol lets through.
 */
export interface Job {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** The client's stdin is a terminal: prompts (`approve`'s typed yes) read the relayed lines. */
  stdinTty: boolean;
  /** The caller as SO_PEERCRED gave it, and its session's tenant: for doctor's mode checks. */
  peer: { uid: number; gid: number; pid: number };
  session?: string;
  sessionRoot?: number;
}

const prefixAt = process.argv.indexOf('--prefix');
const prefix = prefixAt > 0 ? process.argv[prefixAt + 1] : undefined;
if (!prefix || !process.send) {
  process.stderr.write('outloop worker: started by outloopd only\n');
  process.exit(64);
}
const homes = systemHomes(systemPaths(prefix));
fixHomes(homes);
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

process.once('message', (job: Job) => {
  void (async () => {
    useKept();
    Object.assign(process.env, job.env);
    enterSystemMode({ prefix: prefix!, peer: job.peer, ...(job.session ? { session: job.session, sessionRoot: job.sessionRoot } : {}) });
    // The daemon's user may not be allowed into the caller's folder; the folder still names the project.
    try {
      process.chdir(job.cwd);
    } catch {
      process.cwd = () => job.cwd;
    }
    if (job.stdinTty) Object.defineProperty(process.stdin, 'isTTY', { value: true });
    const code = await main(job.argv, { packageRoot });
    process.exitCode = code;
    // What the request wrote is in the pipes by now (writes to a pipe are synchronous on Linux, and main
    // awaits the child's output). Ending them and saying so lets the daemon answer while this process is
    // still exiting; should either fail, it answers at the exit, as for a crash.
    try {
      loadAddon(packageRoot).endOutput();
      process.send!({ t: 'done', code }, () => process.disconnect?.());
    } catch {
      process.disconnect?.();
    }
  })();
});
// While it waits, do what a request would otherwise do cold (warm.ts); ready only then, so the daemon
// hands requests to spares that are.
void warmUp(homes, packageRoot).then(() => process.send!({ t: 'ready' }));
