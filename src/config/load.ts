import { readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isWithin } from '../policy/tenant.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { expandHome, resolveFrom } from '../paths.js';
import type { ParseCache } from './cache.js';
import { keptOrLoad, type Read } from './kept.js';
import type { Config, TenantConfig } from './schema.js';
import { splitTenants } from './sections.js';
import { sha256Hex } from '../digest.js';

/**
 * A project directory bound to a tenant, as written and as an absolute path (lexical: `~` expanded,
 * relative paths resolved against config.yaml, symlinks NOT resolved; see projectsAround for that).
 */
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
export function loadConfig(file: string, env: NodeJS.ProcessEnv, cache?: ParseCache): Promise<LoadedConfig> {
  // Beyond the file, the result depends on HOME alone (`~` in project and recipe paths).
  return keptOrLoad(`config\0${file}\0${env.HOME ?? ''}`, [file], (read) => readConfig(file, env, read, cache));
}

async function readConfig(file: string, env: NodeJS.ProcessEnv, read: Read, cache?: ParseCache): Promise<LoadedConfig> {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, config: EMPTY, projects: [], recipePaths: [] };
    throw new ConfigError([{ file, message: `cannot read config: ${(err as Error).message}` }]);
  }
  let config = cache?.get<Config>('config', file, text);
  if (!config) {
    config = (cache && (await bySection(file, text, cache))) ?? (await import('./validate.js')).validateConfigText(file, text);
    cache?.set('config', file, text, config);
  }
  // Lexical paths only: resolving every project folder through the file system costs one realpath per
  // folder on every request (1,000 tenants: most of a warm exec). projectsAround resolves, per request,
  // only the folders that could contain the working directory.
  const projects = await bindProjects(file, text, config, env);
  const base = dirname(file);
  const recipePaths = config.recipePaths.map((p) => {
    const e = expandHome(p, env);
    return isAbsolute(e) ? e : resolve(base, e);
  });
  return { file, exists: true, config, projects, recipePaths };
}

/** Every project entry by its lexical path; a path (or a user) written for two tenants is a ConfigError at its line. */
export async function bindProjects(file: string, text: string, config: Config, env: NodeJS.ProcessEnv): Promise<ProjectBinding[]> {
  const base = dirname(file);
  const problems: ConfigProblem[] = [];
  const projects: ProjectBinding[] = [];
  // A directory belongs to one tenant, and so does a user (system mode binds its requests to it).
  const dirOwner = new Map<string, string>();
  const userOwner = new Map<string | number, string>();
  const problemAt = async (at: (string | number)[], message: string) => {
    const { locateInConfig } = await import('./validate.js');
    problems.push({ file, ...locateInConfig(file, text, at), message });
  };
  for (const [tenant, t] of Object.entries(config.tenants)) {
    for (const [index, written] of t.projects.entries()) {
      const path = resolveFrom(base, expandHome(written, env));
      const prior = claim(dirOwner, path, tenant);
      if (prior) await problemAt(['tenants', tenant, 'projects', index], twoTenants(path, prior, tenant));
      projects.push({ tenant, written, path });
    }
    for (const [index, user] of (t.users ?? []).entries()) {
      const prior = claim(userOwner, user, tenant);
      if (prior) await problemAt(['tenants', tenant, 'users', index], `user ${user} is bound to two tenants, "${prior}" and "${tenant}"; a user belongs to one tenant`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return projects;
}

/**
 * The first load after an edit: validate only the tenant sections (config/sections.ts) whose text is not
 * in the section cache, reuse the others. Undefined (validate the whole file) when the layout is not the
 * plain one or any part fails alone, so problems are always reported by the whole-file pass.
 */
async function bySection(file: string, text: string, cache: ParseCache): Promise<Config | undefined> {
  const sections = splitTenants(text);
  if (!sections) return undefined;
  // One entry holding every section seen last time, by the hash of its exact text.
  const known = cache.get<Record<string, TenantConfig>>('config-sections', file, '') ?? {};
  const cold = await import('./validate.js');
  const header = cold.validateConfigHeader(file, sections.header);
  if (!header) return undefined;
  const tenants: Record<string, TenantConfig> = {};
  const keep: Record<string, TenantConfig> = {};
  for (const { name, text: section } of sections.tenants) {
    const h = sha256Hex(`${name}\0${section}`);
    const t = known[h] ?? cold.validateTenantSection(file, name, section);
    if (!t) return undefined;
    tenants[name] = keep[h] = t;
  }
  cache.set('config-sections', file, '', keep);
  return { ...header, tenants };
}

/** Record `tenant` as the owner of `key`; the other tenant that already owned it, if any. */
function claim<K>(owners: Map<K, string>, key: K, tenant: string): string | undefined {
  const prior = owners.get(key);
  owners.set(key, tenant);
  return prior !== undefined && prior !== tenant ? prior : undefined;
}

const twoTenants = (path: string, a: string, b: string) => `${path} is bound to two tenants, "${a}" and "${b}"; a directory belongs to one tenant`;

/**
 * The projects that contain `cwd` (a real path), each with its real path, for resolveTenant. Symlinked
 * project folders bind the same tenant as their targets, so real paths are compared, but only where one
 * could matter: a folder whose lexical path is already an ancestor of the real cwd is real itself; for
 * the rest, the parent folder is resolved once (shared by its siblings), and the project itself only when
 * its parent lists it as a symlink. Two tenants whose folders turn out to be the one containing cwd is a
 * config error, as it is when written the same way (loadConfig).
 */
export function projectsAround(cwd: string, loaded: Pick<LoadedConfig, 'projects' | 'file'>): ProjectBinding[] {
  const parents = new Map<string, { real: string | undefined; links?: Set<string> }>();
  const parent = (dir: string) => {
    let p = parents.get(dir);
    if (!p) {
      let real: string | undefined;
      try {
        real = realpathSync(dir);
      } catch {
        real = undefined;
      }
      parents.set(dir, (p = { real }));
    }
    return p;
  };
  const out: ProjectBinding[] = [];
  for (const proj of loaded.projects) {
    if (isWithin(cwd, proj.path)) {
      out.push(proj);
      continue;
    }
    const p = parent(dirname(proj.path));
    if (p.real === undefined) continue;
    const name = basename(proj.path);
    // join(p.real, name) without its normalising: a realpath is normal and `name` is one part of a
    // normal path (resolveFrom), so the two are equal (1,000 projects: ~1.5 ms).
    const direct = sep !== '/' ? join(p.real, name) : p.real === '/' ? `/${name}` : `${p.real}/${name}`;
    if (isWithin(cwd, direct)) {
      out.push({ ...proj, path: direct });
      continue;
    }
    if (!p.links) {
      try {
        p.links = new Set(readdirSync(p.real, { withFileTypes: true }).filter((d) => d.isSymbolicLink()).map((d) => d.name));
      } catch {
        p.links = new Set();
      }
    }
    if (!p.links.has(name)) continue;
    const real = realOrResolved(proj.path);
    if (isWithin(cwd, real)) out.push({ ...proj, path: real });
  }
  const owner = new Map<string, string>();
  for (const proj of out) {
    const prior = owner.get(proj.path);
    if (prior !== undefined && prior !== proj.tenant) {
      throw new ConfigError([{ file: loaded.file, message: `${twoTenants(proj.path, prior, proj.tenant)} (written "${proj.written}")` }]);
    }
    owner.set(proj.path, proj.tenant);
  }
  return out;
}

/** The real path when it exists (symlinks resolved), else the path itself. */
export function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
