import { findExecutable } from './which.js';

/**
 * Everything a recipe's child starts must end with the run, including a descendant that called setsid()
 * and so left the process group the runner signals (a daemonizing tool, `setsid sleep &`). The bubblewrap
 * sandbox already gives the child its own pid namespace. With the sandbox off (or `auto` where bwrap can
 * make no full sandbox but can still make a pid namespace) the child is started in a pid namespace only:
 * the whole filesystem, network and user stay as they are, and the kernel kills every process in the
 * namespace when its first process exits or when outloop dies (`--die-with-parent`).
 *
 * Chosen over a cgroup (needs a writable, delegated cgroup tree, rare outside root or systemd) and a
 * subreaper (needs native code to call prctl, and a subreaper must still find and kill what it adopts).
 * Where bwrap is missing or cannot unshare a pid namespace (macOS, some containers), descendants that
 * left the group may outlive the run; outloop itself still ends at the timeout (spawn.ts closes the output).
 */

/**
 * The runner sends Ctrl-C, timeouts and SIGPIPE to the whole group, bwrap included. bwrap does not pass
 * signals on and would die of them, and --die-with-parent would then SIGKILL the child before it could
 * react: so bwrap ignores them (the child inside gets the group's signal itself), and the first process
 * inside puts the default handlers back (node does at start-up; `env --default-signal` otherwise).
 */
export const SHIELDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGPIPE'] as const;
export const BWRAP_SHIELD = ['/bin/sh', '-c', `trap "" ${SHIELDED_SIGNALS.map((s) => s.slice(3)).join(' ')}; exec "$@"`, 'outloop-sandbox'] as const;

/** argv without the shield in front, or undefined when it has none (the native spawner ignores the signals itself). */
export function unshielded(argv: readonly string[]): string[] | undefined {
  return BWRAP_SHIELD.every((w, i) => argv[i] === w) ? argv.slice(BWRAP_SHIELD.length) : undefined;
}

/** By absolute path: the child's PATH may not lead to it. */
export function defaultSignalEnv(): string[] {
  return [findExecutable('env', '/usr/bin:/bin', '/') ?? '/usr/bin/env', '--default-signal', '--'];
}

/** argv run in its own pid namespace by `bwrap` (a root-owned one, found as the sandbox finds it). */
export function inPidNamespace(bwrap: string, argv: string[]): string[] {
  return [...BWRAP_SHIELD, bwrap, '--dev-bind', '/', '/', '--unshare-pid', '--die-with-parent', '--', ...defaultSignalEnv(), ...argv];
}
