import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DeniedError, UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_PREFIX, DEFAULT_USER, systemPaths, type SystemPaths } from './paths.js';

/**
 * `outloop system install|uninstall`: the user, the folders with their owners and modes, the systemd unit.
 * Idempotent: run again, it puts owners and modes back and rewrites the unit. systemctl is called only
 * for a real install (no --prefix) on a machine whose PID 1 is systemd.
 */

export interface InstallOptions {
  prefix?: string;
  user?: string;
  packageRoot: string;
  say?: (line: string) => void;
}

interface Account {
  uid: number;
  gid: number;
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new DeniedError('person_only', `outloop system ${what} changes the machine and needs root`, `Run \`sudo outloop system ${what}\`.`);
  }
}

function lookup(user: string): Account | undefined {
  try {
    const line = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim();
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

const nologin = () => ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false'].find((p) => existsSync(p)) ?? '/bin/false';

/** A system user with no login shell and no home of its own to write (its state lives in /var/lib/outloop). */
export function ensureUser(user: string): Account {
  const have = lookup(user);
  if (have) return have;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/var/lib/outloop', '--shell', nologin(), '--comment', 'outloop credential broker', user], { stdio: ['ignore', 'ignore', 'pipe'] });
  const made = lookup(user);
  if (!made) throw new Error(`useradd did not create ${user}`);
  return made;
}

function dir(path: string, mode: number, owner: Account): void {
  mkdirSync(path, { recursive: true, mode });
  chownSync(path, owner.uid, owner.gid);
  chmodSync(path, mode);
}

function file(path: string, content: string, mode: number, owner: Account, keep = false): void {
  if (!(keep && existsSync(path))) writeFileSync(path, content, { mode });
  chownSync(path, owner.uid, owner.gid);
  chmodSync(path, mode);
}

const ROOT: Account = { uid: 0, gid: 0 };

const STARTER_CONFIG = `# outloop system-mode configuration: root-owned, read by outloopd (the agent's user cannot change it).
# Edit with \`sudoedit\`; the daemon reads it again for every request. Secret values never go here.
tenants: {}
`;

/**
 * The unit's hardening. Each option was checked against what the daemon's children need (bwrap builds
 * user, mount, pid and network namespaces; the daemon reads the callers' /proc/<pid>/stat):
 * - not RestrictNamespaces, PrivateUsers, SystemCallFilter or a CapabilityBoundingSet: bwrap needs
 *   unshare/mount/pivot_root inside its own user namespace, and PrivateUsers would also map every
 *   caller's uid to nobody, so SO_PEERCRED could no longer tell the agent from root;
 * - not ProtectProc=invisible: sessions walk the callers' parent chain in /proc;
 * - AF_NETLINK besides AF_UNIX/AF_INET/AF_INET6: bwrap brings up loopback in the child's network namespace;
 * - ProtectHome=read-only, not yes: `outloop run` and the tenant binding name project folders under /home.
 */
export function unitText(p: SystemPaths, user: string, packageRoot: string): string {
  const real = p.prefix === DEFAULT_PREFIX;
  const exec = [process.execPath, join(packageRoot, 'bin', 'outloopd.js'), '--foreground', ...(real ? [] : ['--prefix', p.prefix])].join(' ');
  return `# Written by outloop system install (${VERSION}); rewritten by every install.
[Unit]
Description=outloop credential broker (system mode)
Documentation=https://github.com/outloop/outloop
After=network.target

[Service]
Type=simple
User=${user}
Group=${user}
ExecStart=${exec}
Restart=on-failure
UMask=0077
LimitCORE=0
NoNewPrivileges=yes
ProtectSystem=strict
${real ? 'RuntimeDirectory=outloop\nRuntimeDirectoryMode=0755\nStateDirectory=outloop\nStateDirectoryMode=0700\nLogsDirectory=outloop\nLogsDirectoryMode=0700' : `ReadWritePaths=${p.stateDir} ${p.logDir} ${p.runDir}`}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
`;
}

function systemdIsInit(): boolean {
  return existsSync('/run/systemd/system');
}

export function install(o: InstallOptions): SystemPaths {
  requireRoot('install');
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (!prefix.startsWith('/')) throw new UsageError('--prefix must be an absolute path');
  const user = o.user ?? DEFAULT_USER;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new UsageError(`"${user}" is not a valid user name`);
  const say = o.say ?? (() => {});
  const p = systemPaths(prefix);
  const acct = ensureUser(user);
  if (acct.uid === 0) throw new UsageError(`${user} is root; the daemon needs a user of its own`);
  // Root-owned: what decides what runs. The agent's user (and the daemon's) can read, not write.
  for (const d of [join(prefix, 'etc'), dirname(p.unitFile)]) mkdirSync(d, { recursive: true, mode: 0o755 });
  dir(p.etcDir, 0o755, ROOT);
  dir(p.recipesDir, 0o755, ROOT);
  file(p.configFile, STARTER_CONFIG, 0o644, ROOT, true);
  // The daemon's own: store, key, budgets, approvals, caches; the audit log; the socket's folder.
  for (const d of [join(prefix, 'var', 'lib'), join(prefix, 'var', 'log'), join(prefix, 'run')]) mkdirSync(d, { recursive: true, mode: 0o755 });
  dir(p.stateDir, 0o700, acct);
  dir(p.logDir, 0o700, acct);
  dir(p.runDir, 0o755, acct);
  file(p.unitFile, unitText(p, user, o.packageRoot), 0o644, ROOT);
  // Last: the marker that turns every `outloop` on this machine (this prefix) into a client.
  file(p.marker, `${JSON.stringify({ user, uid: acct.uid, gid: acct.gid, prefix, version: VERSION }, null, 2)}\n`, 0o644, ROOT);
  say(`installed outloop system mode under ${prefix} (daemon user ${user}, uid ${acct.uid})`);
  if (prefix === DEFAULT_PREFIX && systemdIsInit()) {
    execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
    execFileSync('systemctl', ['enable', '--now', 'outloopd.service'], { stdio: 'inherit' });
    say('outloopd.service enabled and started');
  } else {
    say(`unit written to ${p.unitFile}; start the daemon with: setpriv --reuid=${user} --regid=${user} --init-groups ${join(o.packageRoot, 'bin', 'outloopd.js')} --foreground${prefix === DEFAULT_PREFIX ? '' : ` --prefix ${prefix}`}`);
  }
  return p;
}

/**
 * Removes what makes this a system install: the unit, the socket's folder and the marker. The config,
 * the daemon's state (the store) and the audit log stay unless --purge: removing a secret store is not a
 * side effect of uninstalling. The user stays too, as Debian leaves system users.
 */
export function uninstall(o: { prefix?: string; purge?: boolean; say?: (l: string) => void }): void {
  requireRoot('uninstall');
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const p = systemPaths(prefix);
  const say = o.say ?? (() => {});
  if (prefix === DEFAULT_PREFIX && systemdIsInit() && existsSync(p.unitFile)) {
    execFileSync('systemctl', ['disable', '--now', 'outloopd.service'], { stdio: 'inherit' });
  }
  rmSync(p.marker, { force: true });
  rmSync(p.unitFile, { force: true });
  rmSync(p.runDir, { recursive: true, force: true });
  if (o.purge) {
    for (const d of [p.etcDir, p.stateDir, p.logDir]) rmSync(d, { recursive: true, force: true });
  }
  if (prefix === DEFAULT_PREFIX && systemdIsInit()) execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
  say(`removed outloop system mode under ${prefix}${o.purge ? ' (config, state and audit log purged)' : ' (config, state and audit log kept; --purge removes them)'}`);
}

/** Read an install's marker, if there is one. */
export function installedAt(prefix: string = DEFAULT_PREFIX): { user: string; uid: number } | undefined {
  try {
    return JSON.parse(readFileSync(systemPaths(prefix).marker, 'utf8')) as { user: string; uid: number };
  } catch {
    return undefined;
  }
}
