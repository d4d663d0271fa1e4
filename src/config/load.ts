import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { expandHome } from '../paths.js';
import { ConfigSchema, type Config } from './schema.js';
import { parseYaml, zodProblems } from './yaml.js';

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

/** Read and validate config.yaml. Any problem throws ConfigError (exit 78): fail closed. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { file, exists: false, config: ConfigSchema.parse({}), projects: [], recipePaths: [] };
    }
    throw new ConfigError([{ file, message: `cannot read config: ${(err as Error).message}` }]);
  }
  const y = parseYaml(file, text);
  if (y.problems.length) throw new ConfigError(y.problems);
  const parsed = ConfigSchema.safeParse(y.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(y, parsed.error));
  const config = parsed.data;
  const base = dirname(file);
  const problems: ConfigProblem[] = [];
  const projects: ProjectBinding[] = [];
  const owner = new Map<string, { tenant: string; index: number }>();
  for (const [tenant, t] of Object.entries(config.tenants)) {
    t.projects.forEach((written, index) => {
      const path = realOrResolved(resolve(base, expandHome(written, env)));
      const prior = owner.get(path);
      if (prior && prior.tenant !== tenant) {
        problems.push({
          file,
          ...y.locate(['tenants', tenant, 'projects', index]),
          message: `${path} is bound to two tenants, "${prior.tenant}" and "${tenant}"; a directory belongs to one tenant`,
        });
      }
      owner.set(path, { tenant, index });
      projects.push({ tenant, written, path });
    });
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
