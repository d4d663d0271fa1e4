import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setSessionHandler } from './client.js';

/**
 * `sudo outloop session --tenant T [--user NAME] -- CMD...`, the client side. The daemon registers this
 * process (pid and start time) as the session's root before CMD starts, so CMD's first request is already
 * bound; CMD then runs as the person who ran sudo (SUDO_UID), or --user, never as root. The session ends
 * when this process does.
 */
export function prepareSession(argv: string[]): { argv: string[]; error?: string } {
  // Only a person may start one; anyone else is sent on to the daemon, which refuses and records it.
  if (process.getuid?.() !== 0) return { argv };
  const dash = argv.indexOf('--');
  const cmd = dash >= 0 ? argv.slice(dash + 1) : [];
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  let user: string | undefined;
  const ui = head.indexOf('--user');
  if (ui >= 0) user = head[ui + 1];
  if (cmd.length === 0) return { argv, error: 'outloop session needs a command after --, e.g. outloop session --tenant acme -- claude' };
  const as = user ?? process.env.SUDO_USER;
  if (!as || as === 'root') return { argv, error: 'outloop session runs its command as the person, not root: run it with sudo from your own account, or pass --user NAME' };
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  if (!setpriv) return { argv, error: 'outloop session needs setpriv (util-linux) to start the command as the person' };
  setSessionHandler((_sock, finish) => {
    const child = spawn(setpriv, [`--reuid=${as}`, `--regid=${as}`, '--init-groups', '--', ...cmd], { stdio: 'inherit' });
    child.once('error', (err) => {
      process.stderr.write(`outloop: cannot start ${cmd[0]}: ${err.message}\n`);
      finish(127);
    });
    child.once('exit', (code, signal) => finish(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
  return { argv: head };
}
