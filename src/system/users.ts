import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { loadNative } from '../native.js';
import type { PeerAddon } from './peer.js';

/** The uid of the OS user `name`, or undefined when there is none. */
export type UidOf = (name: string) => number | undefined;

// Partial: a peercred build from before userUid lacks it, and /etc/passwd serves as it did.
type UserLookup = Partial<Pick<PeerAddon, 'userUid'>>;
let addon: UserLookup | null | undefined;

/**
 * OS user names as the system resolves them: getpwnam_r through NSS (native/peercred), so a user from
 * LDAP or sssd counts as one in /etc/passwd does, as sshd and polkit see them. Where the addon is not
 * built, /etc/passwd. A lookup the user database cannot answer (its directory unreachable) is a config
 * error naming `file`: a binding is never guessed.
 */
export function systemUidOf(file: string): UidOf {
  const lookup = (addon ??= loadNative<UserLookup>('peercred'))?.userUid;
  if (!lookup) return passwdUidOf('/etc/passwd', file);
  return (name) => {
    // What no user database holds (the addon takes names under 255 bytes, without NUL).
    if (name.length === 0 || name.length > 254 || name.includes('\0')) return undefined;
    try {
      return lookup(name) ?? undefined;
    } catch (err) {
      throw new ConfigError([{ file, message: `tenants.<name>.users names OS user "${name}", but the system's user database did not answer: ${(err as Error).message}` }]);
    }
  };
}

/** Names from one passwd-format file (read at the first lookup): the fallback, and tests. */
export function passwdUidOf(passwd: string, file: string): UidOf {
  let uids: Map<string, number> | undefined;
  return (name) => (uids ??= passwdUids(passwd, file)).get(name);
}

/**
 * The tenant a caller's uid is bound to by `tenants.<name>.users`, for the daemon's worker: the uid is
 * the kernel's (SO_PEERCRED), so unlike the folder a request names, the caller cannot choose it. Names are
 * looked up in the system's user database (`uidOf`). A name that is not there, or a uid that two tenants
 * claim (by name in one, by number in the other), is a config error: the binding would otherwise
 * silently not hold, and fail open.
 */
export function userTenant(config: Config, uid: number, file: string, uidOf: UidOf = systemUidOf(file)): { name: string; tenant: string } | undefined {
  const listed = Object.entries(config.tenants).filter(([, t]) => (t.users ?? []).length > 0);
  if (listed.length === 0) return undefined;
  let found: { name: string; tenant: string } | undefined;
  for (const [tenant, t] of listed) {
    for (const u of t.users) {
      const id = typeof u === 'number' ? u : uidOf(u);
      if (id === undefined) {
        throw new ConfigError([{ file, message: `tenants.${tenant}.users: there is no OS user "${u}" on this system; give its uid instead (users: [1234])` }]);
      }
      if (id !== uid) continue;
      if (found && found.tenant !== tenant) {
        throw new ConfigError([{ file, message: `uid ${uid} is bound to two tenants, "${found.tenant}" and "${tenant}" (tenants.<name>.users); a user belongs to one tenant` }]);
      }
      found = { name: typeof u === 'string' ? u : `uid ${u}`, tenant };
    }
  }
  return found;
}

/** name -> uid from the passwd file; a file that cannot be read is a config error naming `file`. */
function passwdUids(passwd: string, file: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `tenants.<name>.users names OS users, but ${passwd} cannot be read: ${(err as Error).message}` }]);
  }
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id)) out.set(name, Number(id));
  }
  return out;
}
