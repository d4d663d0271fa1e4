import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setSessionHandler } from './client.js';
import { optionValue } from './access.js';
import { childrenOf, loadAddon, readStat, type PeerAddon } from './peer.js';

/** How long processes left behind by CMD get to stop on SIGTERM before SIGKILL. */
const LEFTOVER_GRACE_MS = 2000;

/**
 * `sudo outloop session --tenant T [--user NAME] -- CMD...`, the client side. The daemon registers this
 * process (pid and start time) as the session's root before CMD starts, so CMD's first request is already
 * bound; CMD then runs as the person who ran sudo (SUDO_UID), or --user, never as root.
 *
 * The binding follows the ppid chain, so this process is a child subreaper: a double fork or a setsid
 * daemon is reparented here, not to init, and stays in the session. When CMD exits, whatever it left
 * behind is stopped before the session ends: once this process is gone they would be init's and
 * unbound. The session ends when this process does.
 */
export function prepareSession(argv: string[], packageRoot: string): { argv: string[]; error?: string } {
  // Only a person may start one; anyone else is sent on to the daemon, which refuses and records it.
  if (process.getuid?.() !== 0) return { argv };
  const dash = argv.indexOf('--');
  const cmd = dash >= 0 ? argv.slice(dash + 1) : [];
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  const pid = optionValue(head, '--pid');
  if (pid !== undefined) {
    if (cmd.length > 0) return { argv, error: '--pid registers an agent that is already running: it takes no command after --' };
    return registerRunning(head, Number(pid));
  }
  if (cmd.length === 0) return { argv, error: 'outloop session needs a command after --, e.g. outloop session --tenant acme -- claude' };
  const as = optionValue(head, '--user') ?? process.env.SUDO_USER;
  if (!as || as === 'root') return { argv, error: 'outloop session runs its command as the person, not root: run it with sudo from your own account, or pass --user NAME' };
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  if (!setpriv) return { argv, error: 'outloop session needs setpriv (util-linux) to start the command as the person' };
  let addon: PeerAddon;
  try {
    addon = loadAddon(packageRoot);
    addon.subreaper();
  } catch (err) {
    // Without it a double fork leaves the session: no session rather than one an agent can walk out of.
    return { argv, error: `outloop session cannot keep the session's processes in its tree (${(err as Error).message})` };
  }
  const env = sessionEnv(process.env, packageRoot);
  setSessionHandler((_sock, finish) => {
    const child = spawn(setpriv, [`--reuid=${as}`, `--regid=${as}`, '--init-groups', '--', ...cmd], { stdio: 'inherit', env });
    let keep = child.pid ?? 0;
    process.on('SIGCHLD', () => addon.reapAdopted(keep));
    // Ctrl-C and Ctrl-\ reach CMD from the terminal itself; this process outlives them to clean up.
    for (const sig of ['SIGINT', 'SIGQUIT'] as const) process.on(sig, () => {});
    // Sent to this process alone (sudo relays what it is sent): CMD decides, and the cleanup still runs.
    for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
    child.once('error', (err) => {
      process.stderr.write(`outloop: cannot start ${cmd[0]}: ${err.message}\n`);
      finish(127);
    });
    child.once('exit', (code, signal) => {
      keep = 0; // libuv has reaped it: every child left is an adopted one
      void endLeftovers(addon).then(() => finish(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
    });
  });
  return { argv: head };
}

/** How often a registered agent is looked for: it is not this process's child, so no exit event comes. */
const REGISTERED_POLL_MS = 250;

/**
 * `sudo outloop session --tenant T --pid PID`: an agent already running becomes a session's root (the
 * daemon checks the pid and takes its start time). What it starts from now on is bound to T until it
 * exits or this command is stopped. Unlike a session this process starts, the root is no subreaper: a
 * process that double-forks out of the agent's tree leaves the session (docs/system-mode.md).
 */
function registerRunning(head: string[], pid: number): { argv: string[] } {
  const root = Number.isSafeInteger(pid) ? readStat(pid) : undefined;
  setSessionHandler((_sock, finish) => {
    const tenant = optionValue(head, '--tenant');
    process.stderr.write(`outloop: pid ${pid} and what it starts from now on are bound to tenant ${tenant}; this ends when it exits, or with Ctrl-C\n`);
    const watch = setInterval(() => {
      if (readStat(pid)?.startTime === root?.startTime) return;
      clearInterval(watch);
      finish(0);
    }, REGISTERED_POLL_MS);
  });
  return { argv: head };
}

/** Where `npm ci` builds the native client (native/client/outloop.c). */
function nativeClientDir(packageRoot: string): string {
  return join(packageRoot, 'native', 'client', 'build', 'Release');
}

/**
 * CMD's environment: the person's, with the native client first on PATH, so the agent's every `outloop`
 * is a small program and not a Node start (the same protocol and decisions; it hands the rest to the
 * JavaScript CLI). Without a C compiler at install it is not there, and `outloop` is the Node client.
 */
export function sessionEnv(env: NodeJS.ProcessEnv, packageRoot: string): NodeJS.ProcessEnv {
  const dir = nativeClientDir(packageRoot);
  if (!existsSync(join(dir, 'outloop'))) return env;
  return { ...env, PATH: env.PATH ? `${dir}:${env.PATH}` : dir };
}

/**
 * Stop every process CMD left behind: SIGTERM, then SIGKILL after a grace. As the subreaper this process
 * is the parent of all of them (a leftover's own children come here when it dies), so the tree is empty
 * when it has no children left. Done while the session is still registered, so until then they are
 * still bound to its tenant.
 */
async function endLeftovers(addon: PeerAddon): Promise<void> {
  const deadline = Date.now() + LEFTOVER_GRACE_MS;
  const asked = new Set<number>();
  while (addon.reapAdopted(0) !== -1) {
    const left = childrenOf(process.pid);
    if (left.length === 0) return;
    const late = Date.now() >= deadline;
    for (const pid of left) {
      if (!late && asked.has(pid)) continue;
      asked.add(pid);
      try {
        process.kill(pid, late ? 'SIGKILL' : 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    // Woken by the next exit, or after a short while to escalate (a leftover may ignore SIGTERM).
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        process.off('SIGCHLD', done);
        resolve();
      };
      const t = setTimeout(done, 100);
      process.on('SIGCHLD', done);
    });
  }
}
