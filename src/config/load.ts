import { realpathSync } from 'node:fs';
import { readRegularFile } from '../fs/read-regular.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { expandHome } from '../paths.js';
import type { ParseCache } from './cache.js';
import type { Config } from './schema.js';

/** A project directory bound to a tenant, both as written and as the real path used for matching. */
export interface ProjectBinding {
  tenant: string;
  written: string;
  path: string;
}

export interface LoadedConfig {
  file: string;
  /** false when config.yaml does not exist yet: every request is then denied with no_tenant. */
  exists: boolean;
  config: Config;
  projects: ProjectBinding[];
  recipePaths: string[];
}

const EMPTY: Config = { tenants: {}, recipePaths: [], storeKey: 'auto', recordRetention: '30d' };

/** Read and validate config.yaml. Any problem throws ConfigError (exit 78): fail closed. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv, cache?: ParseCache): Promise<LoadedConfig> {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, config: EMPTY, projects: [], recipePaths: [] };
    throw new ConfigError([{ file, message: `cannot read config: ${(err as Error).message}` }]);
  }
  let config = cache?.get<Config>('config', file, text);
  if (!config) {
    const { validateConfigText } = await import('../cold.js');
    config = validateConfigText(file, text);
    cache?.set('config', file, text, config);
  }
  // Project paths are resolved on every load, not cached: a symlink can change without config changing.
  const base = dirname(file);
  const problems: ConfigProblem[] = [];
  const projects: ProjectBinding[] = [];
  const owner = new Map<string, string>();
  for (const [tenant, t] of Object.entries(config.tenants)) {
    for (const [index, written] of t.projects.entries()) {
      const path = realOrResolved(resolve(base, expandHome(written, env)));
      const prior = owner.get(path);
      if (prior !== undefined && prior !== tenant) {
        const { locateInConfig } = await import('../cold.js');
        problems.push({
          file,
          ...locateInConfig(file, text, ['tenants', tenant, 'projects', index]),
          message: `${path} is bound to two tenants, "${prior}" and "${tenant}"; a directory belongs to one tenant`,
        });
      }
      owner.set(path, tenant);
      projects.push({ tenant, written, path });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const recipePaths = config.recipePaths.map((p) => {
    const e = expandHome(p, env);
    return isAbsolute(e) ? e : resolve(base, e);
  });
  return { file, exists: true, config, projects, recipePaths };
}

/** Symlinked project folders must bind the same tenant as their targets, so compare real paths. */
export function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
