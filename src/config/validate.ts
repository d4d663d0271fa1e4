import { ConfigError } from '../errors.js';
import { ConfigSchema, TenantSchema, type Config, type TenantConfig } from './schema.js';
import { parseYaml, zodProblems } from './yaml.js';

/** The slow half of loading config.yaml (YAML + zod), imported only when the cache misses. */
export function validateConfigText(file: string, text: string): Config {
  const y = parseYaml(file, text);
  if (y.problems.length) throw new ConfigError(y.problems);
  const parsed = ConfigSchema.safeParse(y.value ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(y, parsed.error, ConfigSchema));
  const crossed = crossTenantRefs(parsed.data);
  if (crossed.length) throw new ConfigError(crossed.map((c) => ({ file, ...y.locate(c.path), message: c.message })));
  return parsed.data;
}

/**
 * A grant that binds a reference under another tenant's name (`local:globex/stripe` in acme's grant) hands
 * acme globex's key: a copy-paste slip, or an edit that moves a key across the line tenants exist to
 * draw. The reference's first path segment is compared with the other tenants' names (case aside, as
 * `op://Globex/...` names a vault). Allowed only where the grant says `shared: true`.
 */
export function crossTenantRefs(config: Config): { path: PropertyKey[]; message: string }[] {
  const tenants = Object.keys(config.tenants);
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const [tenant, t] of Object.entries(config.tenants)) {
    for (const [service, grant] of Object.entries(t.services)) {
      if (grant.shared) continue;
      for (const [name, ref] of Object.entries(grant.secrets)) {
        const path = ref.startsWith('op://') ? ref.slice(5) : ref.slice(ref.indexOf(':') + 1);
        const first = path.split('/', 1)[0]!.toLowerCase();
        const owner = tenants.find((other) => other !== tenant && other.toLowerCase() === first);
        if (owner === undefined) continue;
        out.push({
          path: ['tenants', tenant, 'services', service, 'secrets', name],
          message: `tenants.${tenant}.services.${service}.secrets.${name} is ${ref}, a reference under tenant "${owner}": a grant of "${tenant}" may not bind another tenant's secret unless it says shared: true`,
        });
      }
    }
  }
  return out;
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
