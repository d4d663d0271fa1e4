import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/**
 * The tenant a caller's uid is bound to by `tenants.<name>.users`, for the daemon's worker: the uid is
 * the kernel's (SO_PEERCRED), so unlike the folder a request names, the caller cannot choose it. Names are
 * looked up in /etc/passwd. A name that is not there, or a uid that two tenants claim (by name in one,
 * by number in the other), is a config error: the binding would otherwise silently not hold, and fail
 * open.
 */
export function userTenant(config: Config, uid: number, file: string, passwd = '/etc/passwd'): { name: string; tenant: string } | undefined {
  const listed = Object.entries(config.tenants).filter(([, t]) => (t.users ?? []).length > 0);
  if (listed.length === 0) return undefined;
  const uids = listed.some(([, t]) => t.users.some((u) => typeof u === 'string')) ? passwdUids(passwd, file) : new Map<string, number>();
  let found: { name: string; tenant: string } | undefined;
  for (const [tenant, t] of listed) {
    for (const u of t.users) {
      const id = typeof u === 'number' ? u : uids.get(u);
      if (id === undefined) {
        throw new ConfigError([{ file, message: `tenants.${tenant}.users: there is no OS user "${u}" in ${passwd}; give its uid instead (users: [1234])` }]);
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
export function passwdUids(passwd: string, file: string): Map<string, number> {
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
