import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Exit, OutloopError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Homes } from '../paths.js';

/**
 * What decides policy must be writable only by the person or root. config.yaml and the recipe folder are
 * refused when another user could swap them: a file, folder or any ancestor owned by someone other than
 * you or root, or writable by group or others (a sticky folder such as /tmp is fine as an ancestor: its
 * other users cannot rename or remove what is yours). Checked on the path as written and on its real
 * path, so a symlink cannot lead around it.
 *
 * This does not stop the agent's own user, who owns these files in personal mode: see pinConfigHome.
 */
export function unsafeConfigPath(path: string, uid: number): { path: string; why: string } | undefined {
  const chains = [path];
  try {
    const real = realpathSync(path);
    if (real !== path) chains.push(real);
  } catch {
    return undefined; // not there: nothing to swap yet, and loading reports what is missing
  }
  // A FIFO or a device would hang or flood the reader; say what it is rather than who could write it.
  const kind = statSync(chains[chains.length - 1]!);
  if (!kind.isFile() && !kind.isDirectory()) return { path: chains[chains.length - 1]!, why: 'is not a regular file (a FIFO, device or socket), so it is not read' };
  for (const start of chains) {
    for (let p = start, leaf = true; ; leaf = false) {
      let st;
      try {
        st = lstatSync(p);
      } catch {
        break;
      }
      if (st.uid !== uid && st.uid !== 0) return { path: p, why: `is owned by uid ${st.uid}, not by you (uid ${uid}) or root, so that user could replace it` };
      const sticky = (st.mode & 0o1000) !== 0;
      if ((st.mode & 0o022) !== 0 && !st.isSymbolicLink() && (leaf || !sticky)) {
        return { path: p, why: `is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}), so another user could swap what is in it` };
      }
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  return undefined;
}

export function checkConfigHome(homes: Pick<Homes, 'configFile' | 'configDir' | 'recipesDir' | 'stateDir'>, uid: number | undefined = process.geteuid?.()): void {
  if (uid === undefined) return; // no POSIX ownership (Windows)
  for (const p of [homes.configFile, homes.recipesDir]) {
    const bad = unsafeConfigPath(p, uid);
    if (bad) {
      throw new OutloopError('unsafe_config', Exit.config, `${bad.path} ${bad.why}; outloop will not take policy from ${p}, nothing was run`, {
        next: `Make it yours and private: chown ${uid} ${bad.path} && chmod go-w ${bad.path} (or move the config to a folder only you can write).`,
      });
    }
  }
  pinConfigHome(homes);
}

const PIN = 'config.pin';

/**
 * The state folder (store, keys, audit) remembers the config folder it serves: its real path and its
 * inode. Pointing XDG_CONFIG_HOME at a config of one's own, or moving the real folder aside and making
 * another, while the state (and so the real store) stays, is then refused instead of silently obeyed.
 * In personal mode the agent's user can delete the pin too; what it cannot do is make the swap go
 * unnoticed by a run that keeps the pin. With OUTLOOP_HOME, config and state are one folder that moves
 * together, so there is nothing to pin: another OUTLOOP_HOME is another install with its own store.
 */
export function pinConfigHome(homes: Pick<Homes, 'configFile' | 'configDir' | 'stateDir'>): void {
  if (homes.configDir === homes.stateDir) return;
  let id: { dir: string; dev: number; ino: number };
  try {
    const st = statSync(homes.configFile);
    if (!st.isFile()) return;
    const dirSt = statSync(homes.configDir);
    id = { dir: realpathSync(homes.configDir), dev: dirSt.dev, ino: dirSt.ino };
  } catch {
    return; // no config yet: every request is denied anyway, and nothing is pinned
  }
  const file = join(homes.stateDir, PIN);
  let pinned: { dir?: unknown; dev?: unknown; ino?: unknown } | undefined;
  try {
    pinned = JSON.parse(readFileSync(file, 'utf8')) as typeof pinned;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') pinned = {};
  }
  if (pinned === undefined) {
    try {
      writeFileAtomic(file, `${JSON.stringify(id)}\n`, 0o600);
    } catch {
      // A read-only state folder: the audit append reports it, failing closed.
    }
    return;
  }
  if (pinned.dir === id.dir && pinned.dev === id.dev && pinned.ino === id.ino) return;
  const what = pinned.dir === id.dir ? `${id.dir} was replaced by another folder of the same name` : `the config is now ${id.dir} (XDG_CONFIG_HOME?), but this state folder serves ${String(pinned.dir)}`;
  throw new OutloopError('config_swapped', Exit.config, `${what}; ${homes.stateDir} holds the store and audit of the config it was set up with, so outloop will not take policy from another one; nothing was run`, {
    next: `Unset XDG_CONFIG_HOME (or restore the original folder). If a person moved the config on purpose, delete ${file}; the next run pins the new one.`,
  });
}
