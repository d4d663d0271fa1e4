/**
 * `outloop tenant add|list|bind`, `outloop grant` and `outloop revoke`: the person's way to add a client
 * and change what it may do without opening config.yaml. Every edit goes through changeConfig(): under the
 * config lock, re-read, spliced keeping comments and order (src/config/edit.ts), validated as a request
 * would load it, then written atomically. A change that would make the config invalid is refused with the
 * problem and nothing is written.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Environment } from '../broker/context.js';
import { loadRequestContext } from '../broker/context.js';
import { dig, editConfig, NotEditableError, type ConfigOp, type Tree } from '../config/edit.js';
import { bindProjects, realOrResolved } from '../config/load.js';
import { NAME_PATTERN, SECRET_NAME_PATTERN, type Config, type ServiceGrant } from '../config/schema.js';
import { validateConfigText } from '../config/validate.js';
import { InternalError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { LockTimeoutError, withFileLock } from '../fs/lock.js';
import { isWithin } from '../policy/tenant.js';
import { serviceNames } from '../recipe/catalogue.js';
import { loadService } from '../recipe/load.js';
import { refProblem } from '../secrets/ref.js';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/suggest.js';
import { cliEnvironment } from './deps.js';
import type { CliOptions } from './main.js';
import { writeJson } from './output.js';

export interface ConfigState {
  file: string;
  /** The text as read under the lock; undefined when config.yaml does not exist yet. */
  text: string | undefined;
  config: Config;
}

export interface PlannedChange {
  ops: ConfigOp[];
  /** What to print once written (or, with no ops, why nothing changed). */
  message: string;
}

/**
 * The one place a command edits config.yaml. In system mode config changes are person-only: the gate
 * belongs here, before the lock is taken, so every command that edits config passes it.
 */
export async function changeConfig(e: Environment, plan: (state: ConfigState) => PlannedChange | Promise<PlannedChange>): Promise<string> {
  const file = e.homes.configFile;
  const work = async () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    // Re-read under the lock: config.yaml may have changed since the caller looked.
    const config = validateConfigText(file, text ?? '');
    const change = await plan({ file, text, config });
    if (!change.ops.length) return change.message;
    let out: string;
    try {
      out = editConfig(file, text ?? '', change.ops);
    } catch (err) {
      if (!(err instanceof NotEditableError)) throw err;
      throw new UsageError(`${file} could not be edited automatically (anchors or aliases on the way?); nothing was changed`, {
        code: 'config_not_editable',
        next: 'Make the change by hand, then run `outloop config check`.',
      });
    }
    // A folder written for two tenants is refused before anything is written.
    await bindProjects(file, out, validateConfigText(file, out), e.env);
    writeFileAtomic(file, out, text === undefined ? 0o600 : statSync(file).mode & 0o777);
    return change.message;
  };
  try {
    return await withFileLock(`${file}.lock`, work);
  } catch (err) {
    if (!(err instanceof LockTimeoutError)) throw err;
    throw new InternalError(`timed out waiting for the config lock ${err.path}${err.ownerPid ? ` (held by pid ${err.ownerPid})` : ''}; nothing was changed`, {
      code: 'config_locked',
      next: `Retry; if no other outloop is running, remove ${err.path}.`,
    });
  }
}

function checkName(what: string, name: string): void {
  if (!NAME_PATTERN.test(name)) throw new UsageError(`${what} name "${name}" must use lowercase letters, digits, "-" and "_"`, { code: 'bad_name', next: `For example ${what === 'tenant' ? 'globex' : 'github'}.` });
}

function projectDir(dir: string, cwd: string): string {
  const abs = resolve(cwd, dir);
  let ok = false;
  try {
    ok = statSync(abs).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`${dir}: not a directory`, { code: 'bad_project', next: 'Pass the project folder the agent works in (it must exist).' });
  return realOrResolved(abs);
}

function tenantOf(config: Config, tenant: string): Config['tenants'][string] {
  const t = Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant] : undefined;
  if (!t) {
    const known = Object.keys(config.tenants);
    throw new UsageError(`config.yaml has no tenant "${tenant}"${didYouMean(tenant, known)}`, {
      code: 'unknown_tenant',
      next: known.length ? `Tenants: ${known.join(', ')}. Add one with \`outloop tenant add ${tenant} --project DIR\`.` : `Add it with \`outloop tenant add ${tenant} --project DIR\`.`,
    });
  }
  return t;
}

/** The tenant an absolute folder is bound to exactly (not through an ancestor), if any. */
function boundExactly(state: ConfigState, env: NodeJS.ProcessEnv, dir: string): Promise<string | undefined> {
  return bindProjects(state.file, state.text ?? '', state.config, env).then((ps) => ps.find((p) => realOrResolved(p.path) === dir)?.tenant);
}

// ---------------------------------------------------------------------------------------------------------
// tenant add / bind / list

/** Add tenant NAME bound to DIR (also used by `init --tenant` once config.yaml exists). */
export function addTenant(e: Environment, name: string, dir: string): Promise<string> {
  checkName('tenant', name);
  const path = projectDir(dir, e.cwd);
  return changeConfig(e, async (state) => {
    if (Object.hasOwn(state.config.tenants, name)) {
      throw new UsageError(`tenant "${name}" already exists in ${state.file}; nothing was changed`, {
        code: 'tenant_exists',
        next: `Bind another folder to it with \`outloop tenant bind ${name} DIR\`.`,
      });
    }
    const other = await boundExactly(state, e.env, path);
    if (other) throw bindConflict(path, other);
    const ops: ConfigOp[] = [{ op: 'set', path: ['tenants', name], value: { projects: [path] } }];
    return {
      ops,
      message: [
        `Added tenant "${name}" to ${state.file}, bound to ${path}.`,
        '',
        'Next: grant it a service and bind the service\'s secrets, e.g.',
        `  outloop grant ${name} SERVICE [RECIPE...] --secret NAME=local:${name}/SERVICE`,
        `  outloop recipes list    # the services and recipes that exist`,
      ].join('\n'),
    };
  });
}

function bindConflict(path: string, other: string): UsageError {
  return new UsageError(`${path} is already bound to tenant "${other}"; a folder belongs to one tenant; nothing was changed`, {
    code: 'already_bound',
    next: `Remove it from tenants.${other}.projects first if it really changed hands.`,
  });
}

export async function tenantAddCommand(name: string, o: { project?: string }, opts: CliOptions): Promise<number> {
  process.stdout.write(`${await addTenant(cliEnvironment(opts), name, o.project ?? '.')}\n`);
  return 0;
}

export async function tenantBindCommand(name: string, dir: string, opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  checkName('tenant', name);
  const path = projectDir(dir, e.cwd);
  const message = await changeConfig(e, async (state) => {
    tenantOf(state.config, name);
    const other = await boundExactly(state, e.env, path);
    if (other === name) return { ops: [], message: `${path} is already bound to tenant "${name}"; nothing changed.` };
    if (other) throw bindConflict(path, other);
    return { ops: [{ op: 'push', path: ['tenants', name, 'projects'], value: path }], message: `Bound ${path} to tenant "${name}".` };
  });
  process.stdout.write(`${message}\n`);
  return 0;
}

/**
 * Bind an OS user's requests to a tenant (system mode: the uid the kernel gives the daemon decides, not
 * the folder a request names). A name must be an OS user here, so a typo cannot become a binding that
 * never holds; a uid is taken as given.
 */
export async function tenantUserCommand(name: string, user: string, opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  checkName('tenant', name);
  const value = /^\d+$/.test(user) ? Number(user) : user;
  if (typeof value === 'string' && (await import('../system/users.js')).systemUidOf(e.homes.configFile)(value) === undefined) {
    throw new UsageError(`there is no OS user "${user}" on this system; nothing was changed`, {
      code: 'unknown_user',
      next: `Create the agent's user first (sudo useradd --system ${user}), or give its uid.`,
    });
  }
  const message = await changeConfig(e, (state) => {
    const users = tenantOf(state.config, name).users ?? [];
    if (users.includes(value)) return { ops: [], message: `OS user ${user} is already bound to tenant "${name}"; nothing changed.` };
    const other = Object.entries(state.config.tenants).find(([t, c]) => t !== name && (c.users ?? []).includes(value))?.[0];
    if (other) {
      throw new UsageError(`OS user ${user} is already bound to tenant "${other}"; a user belongs to one tenant; nothing was changed`, {
        code: 'already_bound',
        next: `Remove it from tenants.${other}.users first if it really changed hands.`,
      });
    }
    const op: ConfigOp = users.length ? { op: 'push', path: ['tenants', name, 'users'], value } : { op: 'set', path: ['tenants', name, 'users'], value: [value] };
    return { ops: [op], message: `Bound OS user ${user} to tenant "${name}": in system mode its requests from any other tenant's project are denied (wrong_tenant).` };
  });
  process.stdout.write(`${message}\n`);
  return 0;
}

export async function tenantListCommand(o: { json?: boolean }, opts: CliOptions): Promise<number> {
  const ctx = await loadRequestContext(cliEnvironment(opts));
  const here = ctx.binding?.tenant ?? null;
  const tenants = Object.entries(ctx.config.config.tenants).map(([name, t]) => ({
    name,
    current: name === here,
    projects: ctx.config.projects.filter((p) => p.tenant === name).map((p) => ({ written: p.written, path: p.path })),
    users: t.users ?? [],
    services: Object.fromEntries(Object.entries(t.services).map(([s, g]) => [s, { allow: g.allow, ...(g.until ? { until: g.until } : {}), secrets: Object.keys(g.secrets) }])),
  }));
  if (o.json) {
    writeJson({ config: ctx.config.file, current: here, tenants });
    return 0;
  }
  if (!tenants.length) {
    process.stdout.write(`No tenants in ${ctx.config.file}${ctx.config.exists ? '' : ' (it does not exist yet)'}.\nnext: outloop tenant add NAME --project DIR\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const t of tenants) {
    lines.push(`${t.current ? '* ' : '  '}${t.name}`);
    for (const p of t.projects) lines.push(`      project  ${p.path}${p.written !== p.path ? `  (${p.written})` : ''}`);
    for (const u of t.users) lines.push(`      user     ${typeof u === 'number' ? `uid ${u}` : u}`);
    for (const [s, g] of Object.entries(t.services)) {
      const allow = g.allow.map((a) => (typeof a === 'string' ? a : `${a.recipe}${a.until ? ` until ${a.until}` : ''}`)).join(', ') || 'nothing';
      lines.push(`      grant    ${s}: ${allow}${g.until ? ` (until ${g.until})` : ''}`);
    }
  }
  lines.push('', here ? `* is the tenant of this folder (${ctx.cwd}).` : `This folder (${ctx.cwd}) belongs to no tenant.`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// grant / revoke

export interface GrantFlags {
  until?: string;
  secret?: Record<string, string>;
  /** Also let `outloop run` wrap commands with this service's secrets (run: true). */
  run?: boolean;
}

/** `--until 2026-12-01T00:00:00Z`, or a duration from now (`8h`, `7d`). */
export function untilInstant(v: string, now = Date.now()): string {
  const ms = parseDuration(v);
  if (ms !== undefined) return new Date(now + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v))) return v;
  throw new UsageError(`--until ${JSON.stringify(v)} is neither a time with its zone (2026-12-01T00:00:00Z) nor a duration (8h, 7d)`, { code: 'bad_until' });
}

/** The service's recipe file, or an unknown_service error with the closest name that exists. */
async function knownService(e: Environment, service: string) {
  const ctx = await loadRequestContext(e);
  const loaded = await loadService(service, ctx.recipeDirs, ctx.cache);
  if (!loaded) {
    throw new UsageError(`no recipe file defines service "${service}"${didYouMean(service, serviceNames(ctx.recipeDirs))}; nothing was changed`, {
      code: 'unknown_service',
      next: 'Run `outloop recipes list` to see the services that exist.',
    });
  }
  return loaded;
}

export async function grantCommand(tenant: string, service: string, recipes: string[], o: GrantFlags, opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  checkName('service', service);
  const until = o.until === undefined ? undefined : untilInstant(o.until);
  const secrets = Object.entries(o.secret ?? {});
  for (const [name, ref] of secrets) {
    if (!SECRET_NAME_PATTERN.test(name)) throw new UsageError(`--secret ${name}=...: secret names are UPPER_SNAKE_CASE`, { code: 'bad_name' });
    const problem = refProblem(ref);
    if (problem) throw new UsageError(`--secret ${name}=${ref}: ${problem}`, { code: 'bad_ref' });
  }
  const loaded = await knownService(e, service);
  for (const r of recipes) {
    if (!loaded.recipes.has(r)) {
      throw new UsageError(`service "${service}" has no recipe "${r}"${didYouMean(r, loaded.recipes.keys())}; nothing was changed`, {
        code: 'unknown_recipe',
        next: `Run \`outloop recipes show ${service}\` to see its recipes.`,
      });
    }
  }
  const needed = [...new Set([...loaded.recipes.values()].filter((r) => !recipes.length || recipes.includes(r.name)).flatMap((r) => r.secrets))];
  const message = await changeConfig(e, (state) => {
    tenantOf(state.config, tenant);
    const grantPath = ['tenants', tenant, 'services', service];
    const grant = dig(state.config.tenants[tenant]!.services, [service]) as ServiceGrant | undefined;
    const ops = grant ? widen(grantPath, grant, recipes, until) : [{ op: 'set' as const, path: grantPath, value: newGrant(recipes, until, secrets, Boolean(o.run)) }];
    if (grant) for (const [name, ref] of secrets) ops.push({ op: 'set', path: [...grantPath, 'secrets', name], value: ref });
    if (grant && o.run && !grant.run) ops.push({ op: 'set', path: [...grantPath, 'run'], value: true });
    const bound = new Set([...Object.keys(grant?.secrets ?? {}), ...secrets.map(([n]) => n)]);
    const unbound = needed.filter((s) => !bound.has(s));
    const what = recipes.length ? recipes.join(', ') : 'every recipe ("*")';
    const lines = [ops.length ? `Granted ${service} to tenant "${tenant}": ${what}${until ? ` until ${until}` : ''}${o.run ? ', and `outloop run` with its secrets' : ''}.` : `Tenant "${tenant}" already has ${service}: ${what}; nothing changed.`];
    if (unbound.length) {
      const ref = (s: string) => `local:${tenant}/${service}${unbound.length > 1 ? `/${s.toLowerCase()}` : ''}`;
      lines.push(
        '',
        `Its recipes need ${unbound.join(', ')}, not bound for "${tenant}" yet. Bind and store them, e.g.:`,
        `  outloop grant ${tenant} ${service}${recipes.map((r) => ` ${r}`).join('')} ${unbound.map((s) => `--secret ${s}=${ref(s)}`).join(' ')}`,
        ...unbound.map((s) => `  printf %s "$${s}" | outloop secrets set ${ref(s)}`),
      );
    }
    return { ops, message: lines.join('\n') };
  });
  process.stdout.write(`${message}\n`);
  return 0;
}

function newGrant(recipes: string[], until: string | undefined, secrets: [string, string][], run: boolean): Tree {
  const allow: Tree[] = recipes.length ? recipes.map((r) => (until ? { recipe: r, until } : r)) : ['*'];
  return {
    ...(secrets.length ? { secrets: Object.fromEntries(secrets) } : {}),
    allow,
    ...(until && !recipes.length ? { until } : {}),
    ...(run ? { run: true } : {}),
  };
}

/** The ops that make an existing grant allow `recipes` (all of them when none are named). */
function widen(grantPath: string[], grant: ServiceGrant, recipes: string[], until: string | undefined): ConfigOp[] {
  const ops: ConfigOp[] = [];
  const allowPath = [...grantPath, 'allow'];
  // A deny rule wins over allow, so granting a recipe lifts the rule `revoke` left for it.
  for (const r of recipes.length ? recipes : ['*']) if (Object.hasOwn(grant.deny, r)) ops.push({ op: 'remove', path: [...grantPath, 'deny', r] });
  if (!recipes.length) {
    if (!grant.allow.includes('*')) ops.push({ op: 'set', path: allowPath, value: ['*'] });
    if (until && grant.until !== until) ops.push({ op: 'set', path: [...grantPath, 'until'], value: until });
    return ops;
  }
  const star = grant.allow.includes('*');
  for (const r of recipes) {
    const i = grant.allow.findIndex((a) => (typeof a === 'string' ? a === r : a.recipe === r));
    const entry = i < 0 ? undefined : grant.allow[i]!;
    const want: Tree = until ? { recipe: r, until } : r;
    if (entry === undefined) {
      if (!star || until) ops.push({ op: 'push', path: allowPath, value: want });
    } else if (typeof entry === 'string' ? until !== undefined : entry.until !== until) {
      ops.push({ op: 'set', path: [...allowPath, i], value: typeof entry === 'string' || !entry.rate ? want : { ...(want as object), rate: entry.rate } });
    }
  }
  return ops;
}

export async function revokeCommand(tenant: string, service: string, recipes: string[], opts: CliOptions): Promise<number> {
  const e = cliEnvironment(opts);
  const message = await changeConfig(e, (state) => {
    const t = tenantOf(state.config, tenant);
    const grantPath = ['tenants', tenant, 'services', service];
    const grant = Object.hasOwn(t.services, service) ? t.services[service] : undefined;
    if (!grant) {
      throw new UsageError(`tenant "${tenant}" has no grant for service "${service}"${didYouMean(service, Object.keys(t.services))}; nothing was changed`, {
        code: 'not_granted',
        next: `\`outloop tenant list\` shows each tenant's grants.`,
      });
    }
    if (!recipes.length) {
      const refs = Object.values(grant.secrets);
      return {
        ops: [{ op: 'remove', path: grantPath }],
        message: [
          `Revoked ${service} from tenant "${tenant}" (the whole grant, with its secret bindings).`,
          ...(refs.length ? [`The stored values stay where they are: ${refs.join(', ')}. Remove a local one with \`outloop secrets rm REF\`.`] : []),
        ].join('\n'),
      };
    }
    const denies: ConfigOp[] = [];
    const removed = new Set<number>();
    for (const r of recipes) {
      const indexes = grant.allow.flatMap((a, i) => ((typeof a === 'string' ? a === r : a.recipe === r) ? [i] : []));
      for (const i of indexes) removed.add(i);
      // Under allow: ["*"] a recipe is taken away by a deny rule, which wins over allow.
      if (grant.allow.includes('*') && !Object.hasOwn(grant.deny, r)) denies.push({ op: 'set', path: [...grantPath, 'deny', r], value: 'revoked with `outloop revoke`' });
    }
    // Highest index first, so each removal leaves the others' indexes as they were.
    const ops: ConfigOp[] = [...[...removed].sort((a, b) => b - a).map((i): ConfigOp => ({ op: 'remove', path: [...grantPath, 'allow', i] })), ...denies];
    return {
      ops,
      message: ops.length ? `Revoked ${recipes.join(', ')} of ${service} from tenant "${tenant}".` : `Tenant "${tenant}" was not allowed ${recipes.join(', ')} of ${service}; nothing changed.`,
    };
  });
  process.stdout.write(`${message}\n`);
  return 0;
}

/** Is `dir` inside one of the tenant's projects (or bound to it)? For `init --tenant` with --agent. */
export function withinTenant(config: { projects: { tenant: string; path: string }[] }, tenant: string, dir: string): boolean {
  return config.projects.some((p) => p.tenant === tenant && isWithin(dir, p.path));
}
