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
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Environment } from '../broker/context.js';
import { loadRequestContext } from '../broker/context.js';
import { NAME_PATTERN, SECRET_NAME_PATTERN, type Config } from '../config/schema.js';
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

export interface Binding {
  name: string;
  ref: string;
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
    throw new UsageError(`config.yaml has no tenant "${tenant}"`, { code: 'unknown_tenant', next: `Add it under tenants: in ${configFile}, or run \`outloop init --tenant ${tenant}\`.` });
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
    const tenantConfig = current.tenants[tenant];
    if (!tenantConfig) throw new UsageError(`config.yaml has no tenant "${tenant}"`, { code: 'unknown_tenant' });
    const grant = tenantConfig.services[service];
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

// ---------------------------------------------------------------------------------------------------------
// Editing config.yaml. The yaml Document API reprints the whole file in its own style (flow padding, comment
// placement and column, sequence indentation), so new pairs are spliced into the text at positions the
// Document gives, leaving every other byte as the person wrote it. Each result is checked against the same
// change made on the parsed data; a splice that does not read back exactly falls back to the Document API.

/** config.yaml's text with `bindings` set under tenants.TENANT.services.SERVICE.secrets. */
export function editedConfig(file: string, text: string, tenant: string, service: string, bindings: readonly Binding[]): string {
  const grantPath = ['tenants', tenant, 'services', service];
  // Through JSON so that aliased maps become copies: an edit that also lands in another tenant's grant via an
  // anchor must not read back as expected.
  const expected = JSON.parse(JSON.stringify(parseDocument(text).toJS() ?? {})) as Record<string, unknown>;
  for (const b of bindings) setData(expected, [...grantPath, 'secrets', b.name], b.ref, grantPath.length);

  // The splice first, as it keeps the file as written; the Document API knows shapes the splicer does not
  // (comments inside flow maps), at the cost of reprinting. The first that reads back exactly wins.
  const attempts = [() => bindings.reduce((t, b) => spliceBinding(t, grantPath, b), text), () => documentEdit(text, grantPath, bindings)];
  for (const attempt of attempts) {
    let out: string;
    try {
      out = attempt();
    } catch {
      continue;
    }
    if (!readsAs(out, expected)) continue;
    // Never leave an invalid config: the result must pass the same validation a request applies.
    validateConfigText(file, out);
    return out;
  }
  throw new UsageError(`${file} could not be edited automatically (anchors or aliases on the way to the grant?); nothing was imported`, {
    code: 'config_not_editable',
    next: `Add under tenants.${tenant}.services.${service}.secrets by hand: ${bindings.map((b) => `${b.name}: ${b.ref}`).join(', ')}`,
  });
}

function setData(root: Record<string, unknown>, path: string[], value: string, grantDepth: number): void {
  let node = root;
  for (const [i, key] of path.slice(0, -1).entries()) {
    let next = node[key];
    if (typeof next !== 'object' || next === null) {
      next = i === grantDepth - 1 ? { allow: [] } : {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readsAs(text: string, expected: unknown): boolean {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length === 0 && isDeepStrictEqual(doc.toJS() ?? {}, expected);
}

function documentEdit(text: string, grantPath: string[], bindings: readonly Binding[]): string {
  const doc = parseDocument(text);
  if (!doc.hasIn(grantPath)) doc.setIn(grantPath, doc.createNode({ secrets: {}, allow: [] }));
  for (const b of bindings) doc.setIn([...grantPath, 'secrets', b.name], b.ref);
  return doc.toString({ lineWidth: 0 });
}

type Tree = string | readonly [] | { [key: string]: Tree };

/** Splice one binding into the text: replace its value, or add it (with any missing maps above it). */
function spliceBinding(text: string, grantPath: string[], b: Binding): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new Error('unparsable');
  const mapPath = [...grantPath, 'secrets'];
  // The deepest map on the path that exists; what is missing below it is added as one nested pair.
  let depth = mapPath.length;
  while (depth > 0 && !isMap(doc.getIn(mapPath.slice(0, depth), true))) depth--;
  if (depth < mapPath.length && doc.getIn(mapPath.slice(0, depth + 1), true) !== undefined) throw new Error('not a map');
  const map = (depth === 0 ? doc.contents : doc.getIn(mapPath.slice(0, depth), true)) as YAMLMap;
  if (!isMap(map)) throw new Error('not a map');

  if (depth === mapPath.length) {
    const pair = findPair(map, b.name);
    if (pair) {
      const range = (pair.value as Node | null)?.range;
      if (!range) throw new Error('no value range');
      return text.slice(0, range[0]) + scalar(b.ref) + text.slice(range[1]);
    }
  }
  let value: Tree = b.ref;
  let key = b.name;
  for (let i = mapPath.length - 1; i >= depth; i--) {
    // A new service grant states `allow: []`: granting no recipe yet is the person's next decision.
    value = i === grantPath.length - 1 ? { [key]: value, allow: [] } : { [key]: value };
    key = mapPath[i]!;
  }
  return map.flow ? spliceFlow(text, map, key, value) : spliceBlock(text, doc, mapPath.slice(0, depth), map, key, value);
}

function spliceBlock(text: string, doc: Document, path: string[], map: YAMLMap, key: string, value: Tree): string {
  const first = map.items[0] as Pair<Node, Node | null> | undefined;
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null> | undefined;
  if (!first?.key.range || !last) throw new Error('empty block map');
  const col = columnOf(text, first.key.range[0]);
  let step = 2;
  if (path.length) {
    const parent = (path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)) as YAMLMap;
    const owner = findPair(parent, path[path.length - 1]!)?.key.range;
    if (owner && col > columnOf(text, owner[0])) step = col - columnOf(text, owner[0]);
  }
  const end = (last.value ?? last.key).range?.[1];
  if (end === undefined) throw new Error('no range');
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  let at = text[end - 1] === '\n' ? end : text.indexOf('\n', end) + 1;
  let lead = '';
  if (at === 0) {
    at = text.length;
    lead = nl;
  }
  const lines = blockLines(key, value, ' '.repeat(col), ' '.repeat(step));
  return text.slice(0, at) + lead + lines.join(nl) + nl + text.slice(at);
}

function spliceFlow(text: string, map: YAMLMap, key: string, value: Tree): string {
  const end = map.range?.[1];
  if (end === undefined || text[end - 1] !== '}') throw new Error('no closing brace');
  const close = end - 1;
  let j = close - 1;
  while (j >= 0 && /\s/.test(text[j]!)) j--;
  const entry = `${scalar(key)}: ${flow(value)}`;
  if (text[j] === '{') return `${text.slice(0, j)}{ ${entry} }${text.slice(end)}`;
  return text.slice(0, j + 1) + (text[j] === ',' ? ' ' : ', ') + entry + text.slice(j + 1);
}

function blockLines(key: string, value: Tree, indent: string, step: string): string[] {
  if (typeof value === 'string') return [`${indent}${scalar(key)}: ${scalar(value)}`];
  if (Array.isArray(value)) return [`${indent}${scalar(key)}: []`];
  return [`${indent}${scalar(key)}:`, ...Object.entries(value).flatMap(([k, v]) => blockLines(k, v, indent + step, step))];
}

function flow(value: Tree): string {
  if (typeof value === 'string') return scalar(value);
  if (Array.isArray(value)) return '[]';
  return `{ ${Object.entries(value)
    .map(([k, v]) => `${scalar(k)}: ${flow(v)}`)
    .join(', ')} }`;
}

/** Plain when YAML reads it back as this same string in block and flow context alike, else double-quoted. */
function scalar(s: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.:/@+-]*$/.test(s) && !s.endsWith(':') && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s);
  return plain ? s : JSON.stringify(s);
}

function findPair(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Node, Node | null> | undefined;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}
