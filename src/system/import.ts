import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { registryFor } from '../cli/deps.js';
import { UsageError } from '../errors.js';
import { resolveHomes, type Homes } from '../paths.js';
import { parseRef } from '../secrets/ref.js';
import { installedAt } from './install.js';
import { DEFAULT_PREFIX, systemHomes, systemPaths } from './paths.js';

/**
 * `sudo outloop system import [HOME]`: move a personal-mode home into the system install. The local store
 * is read with its own key, every value is written into the daemon's store (its own key), read back and
 * compared, and only then is the old store and its key removed. A config and recipes are copied into
 * /etc/outloop (root-owned) only while the system config is still the starter, so a person's system
 * policy is never overwritten by a user's file.
 *
 * HOME is an OUTLOOP_HOME folder (config.yaml, store.json side by side) or a user's home folder; without
 * it, the home of the person who ran sudo.
 */
export async function importHome(o: { home?: string; prefix?: string; say: (l: string) => void }): Promise<void> {
  if (process.getuid?.() !== 0) throw new UsageError('outloop system import needs root', { code: 'person_only', next: 'Run `sudo outloop system import`.' });
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const marker = installedAt(prefix);
  if (!marker) throw new UsageError(`no system install under ${prefix}`, { code: 'not_installed', next: `Run \`sudo outloop system install${prefix === DEFAULT_PREFIX ? '' : ` --prefix ${prefix}`}\` first.` });
  const from = personalHomes(o.home);
  const to = systemHomes(systemPaths(prefix));
  if (!existsSync(from.storeFile)) throw new UsageError(`no local store at ${from.storeFile}`, { code: 'nothing_to_import' });
  if (!existsSync(from.storeKeyFile)) {
    throw new UsageError(`the store's key is not in ${from.storeKeyFile} (it is in that user's keychain, which root cannot open)`, {
      code: 'store_key_unreachable', next: 'As that user, move the key to a file first (storeKey: file in config.yaml), then import.',
    });
  }
  const src = await registryFor(from, {}, 'file').get('local');
  const dst = await registryFor(to, {}, 'file').get('local');
  const refs = (await src.list!()).map((r) => parseRef(r));
  const values = new Map<string, string>();
  for (const ref of refs) {
    const v = await src.read(ref);
    values.set(ref.raw, v);
    await dst.write!(ref, v);
  }
  // Read back through a fresh backend (the file, not a cache), then hand the files to the daemon's user.
  const check = await registryFor(to, {}, 'file').get('local');
  for (const ref of refs) {
    if ((await check.read(ref)) !== values.get(ref.raw)) throw new Error(`${ref.raw} did not read back the same from ${to.storeFile}; the personal store was left as it was`);
  }
  values.clear();
  for (const name of readdirSync(to.stateDir)) chownSync(join(to.stateDir, name), marker.uid, statSync(to.stateDir).gid);
  o.say(`imported ${refs.length} value${refs.length === 1 ? '' : 's'} into ${to.storeFile} (re-encrypted under the daemon's key; each read back and compared)`);

  const systemConfig = readFileSync(to.configFile, 'utf8');
  if (existsSync(from.configFile) && /^tenants: \{\}$/m.test(systemConfig) && !/^\s+\S+:\s*$/m.test(systemConfig)) {
    copyFileSync(from.configFile, to.configFile);
    chownSync(to.configFile, 0, 0);
    const recipes = existsSync(from.recipesDir) ? readdirSync(from.recipesDir).filter((f) => /\.ya?ml$/.test(f)) : [];
    for (const f of recipes) {
      copyFileSync(join(from.recipesDir, f), join(to.recipesDir, f));
      chownSync(join(to.recipesDir, f), 0, 0);
    }
    o.say(`copied ${from.configFile} and ${recipes.length} recipe file${recipes.length === 1 ? '' : 's'} into ${to.configFile.replace(/config\.yaml$/, '')} (root-owned)`);
  } else if (existsSync(from.configFile)) {
    o.say(`kept the system config ${to.configFile} (not the starter); merge ${from.configFile} into it by hand`);
  }
  rmSync(from.storeFile);
  rmSync(from.storeKeyFile);
  o.say(`removed the personal store ${from.storeFile} and its key`);
}

function personalHomes(home: string | undefined): Homes {
  const dir = home ?? sudoHome();
  // An OUTLOOP_HOME folder holds config.yaml or store.json itself; a user's home has them under XDG folders.
  if (existsSync(join(dir, 'store.json')) || existsSync(join(dir, 'config.yaml'))) return resolveHomes({ OUTLOOP_HOME: dir });
  return resolveHomes({ HOME: dir });
}

function sudoHome(): string {
  const user = process.env.SUDO_USER;
  if (!user) throw new UsageError('whose home? pass it: sudo outloop system import /home/NAME', { code: 'usage' });
  return execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim().split(':')[5] ?? '';
}
