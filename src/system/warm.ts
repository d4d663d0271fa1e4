import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKeyFor, openAuditLogAhead } from '../audit/install.js';
import { ParseCache } from '../config/cache.js';
import { keepParsed } from '../config/kept.js';
import { loadConfig } from '../config/load.js';
import type { Homes } from '../paths.js';
import { loadService, recipeDirs, serviceNames } from '../recipe/load.js';
import { LOADERS } from '../secrets/registry.js';
import { loadAddon } from './peer.js';

/**
 * What a spare worker does while it waits for its request: everything no request changes, so that the
 * request itself only decides and runs. It loads the modules an exec and a run reach after policy, opens
 * the audit log (the chain key read), compiles the packaged secret shapes, and parses config.yaml and
 * every recipe file; config/kept.ts hands those to the request only while each file is unchanged, and
 * the request checks the config folder (checkConfigHome) as always. Nothing here depends on, or is left
 * by, a caller: a spare serves one request and exits (worker.ts).
 *
 * A config that does not load is not kept: the request loads it again and reports the problem there.
 */
export async function warmUp(homes: Homes, packageRoot: string): Promise<void> {
  // Not the cold chunk (YAML, zod, the other commands: 20+ ms): the parse cache spares an exec it, and a
  // spare whose config or recipes changed loads it below, through the parse.
  await Promise.all([
    import('../sandbox/run.js'),
    import('../sandbox/proxy.js'),
    import('../sandbox/detect.js'),
    import('./harden.js'),
    // The keyword index is built on the first scan (compileShapes); a spare has the time, so now.
    import('../redact/shapes/index.js').then((m) => void m.builtinShapes().index),
    LOADERS.local!(),
  ]);
  // The addon that ends the request's output (worker.ts), and the output streams themselves: node makes
  // process.stdout on first use (a pipe socket here, about a millisecond), and these pipes are the spare's
  // own from its start, not a caller's.
  loadAddon(packageRoot);
  void process.stdout;
  void process.stderr;
  openAuditLogAhead(homes);
  keepParsed();
  // The daemon's parse cache lives in its state folder (the config folder is root's), as for a request;
  // its MAC key is read only if the install key exists (none is made ahead of a request).
  const key = join(homes.stateDir, 'audit.key');
  const cache = ParseCache.forConfigDir(homes.stateDir, () => (existsSync(key) ? cacheKeyFor(homes.stateDir, homes.auditFile) : undefined));
  try {
    const config = await loadConfig(homes.configFile, process.env, cache);
    const dirs = recipeDirs(join(packageRoot, 'recipes'), homes.recipesDir, config.recipePaths);
    for (const service of serviceNames(dirs)) await loadService(service, dirs, cache).catch(() => undefined);
  } catch {
    // Reported by the request that loads it.
  }
}
