import { ConfigError } from '../errors.js';
import { ConfigSchema, TenantSchema, type Config, type TenantConfig } from './schema.js';
import { parseYaml, zodProblems } from './yaml.js';

/** The slow half of loading config.yaml (YAML + zod), imported only when the cache misses. */
export function validateConfigText(file: string, text: string): Config {
  const y = parseYaml(file, text);
  if (y.problems.length) throw new ConfigError(y.problems);
  const parsed = ConfigSchema.safeParse(y.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(y, parsed.error));
  return parsed.data;
}

export function emptyConfig(): Config {
  return ConfigSchema.parse({});
}

/** line:col of a node, for the rare error found after validation (a path bound to two tenants). */
export function locateInConfig(file: string, text: string, path: PropertyKey[]): { line: number; col: number } {
  return parseYaml(file, text).locate(path);
}

/**
 * One tenant's section of config.yaml, validated alone (config/sections.ts), or undefined when it has any
 * problem: the caller then validates the whole file, which reports every problem at its line.
 */
export function validateTenantSection(file: string, name: string, section: string): TenantConfig | undefined {
  const y = parseYaml(file, `tenants:\n${section}`);
  if (y.problems.length) return undefined;
  const tenants = (y.value as { tenants?: Record<string, unknown> } | null)?.tenants;
  if (!tenants || Object.keys(tenants).length !== 1 || !(name in tenants)) return undefined;
  const parsed = TenantSchema.safeParse(tenants[name]);
  return parsed.success ? parsed.data : undefined;
}

/** Everything of config.yaml but its tenants, validated alone; undefined on any problem (as above). */
export function validateConfigHeader(file: string, header: string): Config | undefined {
  const y = parseYaml(file, header);
  if (y.problems.length) return undefined;
  const v = y.value ?? {};
  if (typeof v !== 'object' || Array.isArray(v) || 'tenants' in v) return undefined;
  const parsed = ConfigSchema.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}
