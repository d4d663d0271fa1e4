import { ConfigError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { parseYaml, zodProblems } from './yaml.js';

/** The slow half of loading config.yaml (YAML + zod), imported only when the cache misses. */
export function validateConfigText(file: string, text: string): Config {
  const y = parseYaml(file, text);
  if (y.problems.length) throw new ConfigError(y.problems);
  const parsed = ConfigSchema.safeParse(y.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(y, parsed.error, ConfigSchema));
  return parsed.data;
}

export function emptyConfig(): Config {
  return ConfigSchema.parse({});
}

/** line:col of a node, for the rare error found after validation (a path bound to two tenants). */
export function locateInConfig(file: string, text: string, path: PropertyKey[]): { line: number; col: number } {
  return parseYaml(file, text).locate(path);
}
