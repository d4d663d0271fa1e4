/**
 * `outloop secrets import FILE.env --service S`: move the values of a dotenv file into a writable secret
 * backend and bind them in config.yaml, so a project can drop its `.env` without editing its recipes'
 * secret names.
 *
 * Where a value goes (the reference written into config.yaml):
 *   --to local     local:TENANT/SERVICE/name        (the name lowercased, like every local: path)
 *   --to keychain  keychain:outloop-TENANT/SERVICE/NAME   (keychain service "outloop-TENANT",
 *                                                          account "SERVICE/NAME")
 *
 * Order of work, so a failure never leaves a binding without a value nor an invalid config: everything is
 * checked and the edited config.yaml validated before the first value is written; values are written one
 * by one; config.yaml is then replaced once, atomically, binding exactly the values that were stored.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Environment } from '../broker/context.js';
import { loadRequestContext } from '../broker/context.js';
import { NAME_PATTERN, SECRET_NAME_PATTERN, type Config } from '../config/schema.js';
import { editedConfig, type Binding } from '../config/edit.js';
import { validateConfigText } from '../config/validate.js';
import { BackendError, InternalError, OutloopError, UsageError, asOutloopError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { LockTimeoutError, withFileLock } from '../fs/lock.js';
import type { BackendRegistry, SecretBackend } from '../secrets/backend.js';
import { DotenvError, parseDotenv, type DotenvEntry } from '../secrets/dotenv.js';
import { parseRef } from '../secrets/ref.js';
import { cliEnvironment, registryFor } from './deps.js';
import type { CliOptions } from './main.js';
import { shellQuote } from './output.js';

export const IMPORT_TARGETS = ['local', 'keychain'] as const;
export type ImportTarget = (typeof IMPORT_TARGETS)[number];

export interface ImportFlags {
  service?: string;
  tenant?: string;
  to?: string;
  force?: boolean;
  dryRun?: boolean;
}

export interface ImportDeps extends Environment {
  backends(storeKey: Config['storeKey']): BackendRegistry;
  /** Where the report goes (stdout from the command line). */
  out(text: string): void;
}


/** The reference an imported variable is stored under; see the module comment. */
export function referenceFor(to: ImportTarget, tenant: string, service: string, name: string): string {
  return to === 'local' ? `local:${tenant}/${service}/${name.toLowerCase()}` : `keychain:outloop-${tenant}/${service}/${name}`;
}

export async function importCommand(file: string, o: ImportFlags, opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  return runImport(file, o, { ...e, backends: (k) => registryFor(e.homes, e.env, k), out: (s) => process.stdout.write(s) });
}

export async function runImport(file: string, o: ImportFlags, deps: ImportDeps): Promise<number> {
  const service = o.service ?? '';
  if (!NAME_PATTERN.test(service)) throw new UsageError(`--service must name a service (lowercase letters, digits, "-" and "_"), got ${JSON.stringify(service)}`);
  const to = (o.to ?? 'local') as ImportTarget;
  if (!IMPORT_TARGETS.includes(to)) throw new UsageError(`--to must be one of ${IMPORT_TARGETS.join(', ')}`, { next: 'Other backends are written with their own tools; bind their references in config.yaml by hand.' });

  const { entries, skipped, duplicates } = readEntries(file);

  const ctx = await loadRequestContext(deps);
  const configFile = deps.homes.configFile;
  if (!ctx.config.exists) throw new UsageError(`there is no ${configFile} yet`, { code: 'no_config', next: 'Run `outloop init --tenant NAME` in the project folder first.' });
  const tenant = o.tenant ?? ctx.binding?.tenant;
  if (tenant === undefined) {
    throw new UsageError(`${ctx.cwd} belongs to no tenant, and no --tenant was given`, {
      code: 'no_tenant',
      next: 'Run this from a project folder bound in config.yaml, or pass --tenant NAME.',
    });
  }
  if (!Object.prototype.hasOwnProperty.call(ctx.config.config.tenants, tenant)) {
    throw new UsageError(`config.yaml has no tenant "${tenant}"`, { code: 'unknown_tenant', next: `Add it with \`outloop tenant add ${tenant} --project DIR\` (the client's project folder), then run this again.` });
  }

  const plan: (Binding & { value: string })[] = entries.map((e) => ({ name: e.name, value: e.value, ref: referenceFor(to, tenant, service, e.name) }));
  const registry = deps.backends(ctx.config.config.storeKey);
  // Asked for before anything else happens, so an unavailable backend (exit 69) changes nothing.
  const backend = await registry.get(to);
  if (!backend.write) throw new BackendError(to, `the ${to} backend is read-only from outloop`, { code: 'backend_read_only' });

  const work = async () => {
    const text = readFileSync(configFile, 'utf8');
    // Re-read under the lock: config.yaml may have changed since it was loaded above.
    const current = validateConfigText(configFile, text);
    // Own properties only: a tenant or service called "constructor" must not find Object.prototype's.
    const tenantConfig = Object.hasOwn(current.tenants, tenant) ? current.tenants[tenant] : undefined;
    if (!tenantConfig) throw new UsageError(`config.yaml has no tenant "${tenant}"`, { code: 'unknown_tenant' });
    const grant = Object.hasOwn(tenantConfig.services, service) ? tenantConfig.services[service] : undefined;
    const stored = new Set(backend.list ? await backend.list() : []);
    const previous = new Map<string, string>();
    const conflicts: string[] = [];
    for (const p of plan) {
      const bound = grant?.secrets[p.name];
      if (bound !== undefined) {
        previous.set(p.name, bound);
        conflicts.push(`${p.name} is already bound to ${bound}`);
      } else if (stored.has(p.ref)) {
        conflicts.push(`${p.name}: a value is already stored at ${p.ref}`);
      }
    }
    if (conflicts.length && !o.force) {
      throw new UsageError(`nothing imported: ${conflicts.join('; ')}`, {
        code: 'binding_exists',
        next: 'Pass --force to replace them, or remove those variables from the file.',
      });
    }
    const full = editedConfig(configFile, text, tenant, service, plan);
    const header = { file, tenant, service, to, createdGrant: grant === undefined, previous, skipped, duplicates };
    if (o.dryRun) {
      deps.out(report({ ...header, moved: plan, dryRun: true }));
      return 0;
    }

    const moved: typeof plan = [];
    let failure: { name: string; err: OutloopError } | undefined;
    for (const p of plan) {
      try {
        await backend.write!(parseRef(p.ref), p.value);
      } catch (err) {
        failure = { name: p.name, err: asOutloopError(err) };
        break;
      }
      moved.push(p);
    }
    if (moved.length) {
      const final = moved.length === plan.length ? full : editedConfig(configFile, text, tenant, service, moved);
      writeFileAtomic(configFile, final, statSync(configFile).mode & 0o777);
    }
    if (failure) {
      if (moved.length) deps.out(report({ ...header, moved, dryRun: false }));
      throw storeFailed(backend, failure, moved, plan);
    }
    deps.out(report({ ...header, moved, dryRun: false }));
    return 0;
  };

  if (o.dryRun) return work();
  try {
    return await withFileLock(`${configFile}.lock`, work);
  } catch (err) {
    if (!(err instanceof LockTimeoutError)) throw err;
    throw new InternalError(`timed out waiting for the config lock ${err.path}${err.ownerPid ? ` (held by pid ${err.ownerPid})` : ''}; nothing was imported`, {
      code: 'config_locked',
      next: `Retry; if no other outloop is running, remove ${err.path}.`,
    });
  }
}

function readEntries(file: string): { entries: DotenvEntry[]; skipped: string[]; duplicates: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`, { code: 'file_unreadable' });
  }
  let parsed;
  try {
    parsed = parseDotenv(text);
  } catch (err) {
    if (!(err instanceof DotenvError)) throw err;
    throw new UsageError(`${file}:${err.message}`, { code: 'bad_dotenv', next: 'Fix that line; nothing was imported.' });
  }
  // By line only: a stray line of a pasted base64 value ending in "=" parses as a name, and must not be echoed.
  const invalid = parsed.entries.filter((e) => !SECRET_NAME_PATTERN.test(e.name)).map((e) => e.line);
  if (invalid.length) {
    throw new UsageError(`${file}: the name${invalid.length > 1 ? 's' : ''} on line ${invalid.join(', ')} ${invalid.length > 1 ? 'are' : 'is'} not UPPER_SNAKE_CASE (A-Z, 0-9, _; not starting with a digit)`, {
      code: 'bad_name',
      next: 'Rename them in the file (and in the scripts that read them); nothing was imported.',
    });
  }
  // The local store refuses an empty value, and an empty secret is no secret to protect.
  const entries = parsed.entries.filter((e) => e.value !== '');
  const skipped = parsed.entries.filter((e) => e.value === '').map((e) => e.name);
  if (!entries.length) throw new UsageError(`${file} holds no variable with a value; nothing to import`, { code: 'nothing_to_import' });
  return { entries, skipped, duplicates: parsed.duplicates };
}

function storeFailed(backend: SecretBackend, f: { name: string; err: OutloopError }, moved: Binding[], plan: Binding[]): BackendError {
  const rest = plan.slice(moved.length + 1).map((p) => p.name);
  const done = moved.length ? `${moved.map((m) => m.name).join(', ')} moved and bound; ` : 'nothing was moved; ';
  return new BackendError(backend.name, `storing ${f.name} in the ${backend.name} backend failed: ${f.err.message}. ${done}${[f.name, ...rest].join(', ')} not moved`, {
    code: f.err.code,
    cause: f.err,
    next: f.err.next ?? `Fix the ${backend.name} backend and run the import again (with --force for the variables already moved).`,
  });
}

interface ReportInput {
  file: string;
  tenant: string;
  service: string;
  to: ImportTarget;
  moved: Binding[];
  previous: Map<string, string>;
  createdGrant: boolean;
  skipped: string[];
  duplicates: string[];
  dryRun: boolean;
}

function report(r: ReportInput): string {
  const where = r.to === 'local' ? 'the local store' : 'the OS keychain';
  const n = `${r.moved.length} variable${r.moved.length === 1 ? '' : 's'}`;
  const lines = [
    r.dryRun
      ? `Dry run, nothing written: would move ${n} from ${r.file} into ${where}, bound for tenant "${r.tenant}", service "${r.service}":`
      : `Moved ${n} from ${r.file} into ${where}, bound for tenant "${r.tenant}", service "${r.service}":`,
  ];
  const w = Math.max(...r.moved.map((m) => m.name.length));
  for (const m of r.moved) {
    const before = r.previous.get(m.name);
    lines.push(`  ${m.name.padEnd(w)}  ${m.ref}${before !== undefined ? `  (was ${before})` : ''}`);
  }
  if (r.duplicates.length) lines.push(`Defined more than once in ${r.file} (the last value counts): ${r.duplicates.join(', ')}.`);
  if (r.skipped.length) lines.push(`Skipped, empty: ${r.skipped.join(', ')}.`);
  if (r.createdGrant) lines.push(`${r.dryRun ? 'Would create' : 'Created'} the grant tenants.${r.tenant}.services.${r.service} with allow: [] (list the recipes it may run there).`);
  if (!r.dryRun) lines.push(`${r.file} still holds these values in clear: delete it (e.g. shred -u ${shellQuote(r.file)}) once your scripts use outloop.`);
  return `${lines.join('\n')}\n`;
}
