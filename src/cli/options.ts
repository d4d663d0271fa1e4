import { UsageError } from '../errors.js';
import { collectParam } from './params.js';

/**
 * The options of `exec` and `check`, as data: commander registers them for help and for every unusual
 * command line, and the hot path parses ordinary ones with node:util's parseArgs, so an agent's thousands
 * of `outloop exec` calls never load commander. One table, so the two can never disagree.
 */
export interface OptionSpec {
  name: string;
  short?: string;
  /** The value's placeholder; absent for a boolean flag. */
  arg?: string;
  repeat?: boolean;
  env?: string;
  description: string;
}

const PARAM: OptionSpec = { name: 'param', short: 'p', arg: 'name=value', repeat: true, description: 'a recipe parameter (repeatable)' };
const TENANT: OptionSpec = { name: 'tenant', arg: 'name', env: 'OUTLOOP_TENANT', description: 'assert the tenant this project must belong to' };

export const EXEC_OPTIONS: readonly OptionSpec[] = [
  PARAM,
  TENANT,
  { name: 'json', description: 'print one JSON object (ok, decision, exitCode, stdout, stderr, redactions, auditId)' },
  { name: 'dry-run', description: 'show the command that would run, secrets as [SECRET:NAME]; read no secret' },
  { name: 'wait', description: 'when a person must approve, wait for the answer (approved: run; denied or expired: exit 77)' },
  { name: 'record', description: 'keep an asciicast recording of the redacted output (outloop replay AUDIT_ID)' },
];

export const CHECK_OPTIONS: readonly OptionSpec[] = [PARAM, TENANT, { name: 'json', description: 'print the decision and every gate as JSON' }];

/** What exec and check receive, whichever parser read the command line. */
export interface RequestFlags {
  param: Record<string, string>;
  tenant?: string | undefined;
  json?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  record?: boolean;
}

/**
 * `exec`/`check` with one target and known options, parsed without commander; anything else (help, an
 * unknown or malformed option, a missing target) returns undefined so commander can word the answer.
 */
export function parseRequestLine(argv: readonly string[]): { command: 'exec' | 'check'; target: string; flags: RequestFlags } | undefined {
  const command = argv[0];
  if (command !== 'exec' && command !== 'check') return undefined;
  const specs = command === 'exec' ? EXEC_OPTIONS : CHECK_OPTIONS;
  let parsed = plainLine(argv.slice(1), specs);
  if (!parsed) {
    try {
      // Read at the call: node:util's parseArgs is a lazy property that loads its module when read, and
      // an import would read it when this chunk loads.
      parsed = process.getBuiltinModule('node:util').parseArgs({
        args: argv.slice(1),
        allowPositionals: true,
        strict: true,
        options: Object.fromEntries(
          specs.map((s) => [s.name, { type: s.arg ? ('string' as const) : ('boolean' as const), ...(s.short ? { short: s.short } : {}), ...(s.repeat ? { multiple: true } : {}) }]),
        ),
      });
    } catch {
      return undefined;
    }
  }
  if (parsed.positionals.length !== 1) return undefined;
  const v = parsed.values as ParsedValues;
  return {
    command,
    target: parsed.positionals[0]!,
    flags: {
      param: (v.param ?? []).reduce<Record<string, string>>((acc, p) => collectParam(p, acc), {}),
      tenant: v.tenant ?? process.env[TENANT.env!],
      json: Boolean(v.json),
      dryRun: Boolean(v['dry-run']),
      wait: Boolean(v.wait),
      record: Boolean(v.record),
    },
  };
}

type ParsedValues = { param?: string[]; tenant?: string; json?: boolean; 'dry-run'?: boolean; wait?: boolean; record?: boolean };

/**
 * The plainest lines (`exec svc.recipe --tenant acme -p n=1 --json`) without parseArgs, a module of its
 * own for node to load on every call: words that are a known flag, a known option followed by a value
 * that is no option (or `--name=value`), or a target. Anything else (option groups, `--`, a value that
 * starts with `-`, an unknown option) is left to parseArgs, which reads it as before.
 */
function plainLine(args: readonly string[], specs: readonly OptionSpec[]): { values: ParsedValues; positionals: string[] } | undefined {
  const values: Record<string, string | string[] | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(2, eq) : a.startsWith('--') ? a.slice(2) : undefined;
    const spec = specs.find((s) => (name !== undefined ? s.name === name : a === `-${s.short}`));
    if (!spec) return undefined;
    let value: string | boolean = true;
    if (spec.arg) {
      const next = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (next === undefined || (eq < 0 && next.startsWith('-'))) return undefined;
      value = next;
    } else if (eq > 0) return undefined;
    if (spec.repeat) values[spec.name] = [...((values[spec.name] as string[] | undefined) ?? []), value as string];
    else values[spec.name] = value;
  }
  return { values: values as ParsedValues, positionals };
}

/** commander's spelling of a spec: `-p, --param <name=value>`. */
export function commanderFlags(s: OptionSpec): string {
  return `${s.short ? `-${s.short}, ` : ''}--${s.name}${s.arg ? ` <${s.arg}>` : ''}`;
}

/**
 * The tenant a request asserts (--tenant, or OUTLOOP_TENANT). An empty one is a usage error, not "no
 * assertion": `--tenant=` from a script whose variable came out empty must not silently drop the check.
 */
export function assertedTenant(tenant: string | undefined): string | undefined {
  if (tenant === undefined) return undefined;
  if (tenant.trim() === '') {
    throw new UsageError('--tenant (or OUTLOOP_TENANT) is empty: it asserts no tenant, so the request is refused', {
      code: 'empty_tenant',
      next: 'Give the tenant name (--tenant acme), or leave both --tenant and OUTLOOP_TENANT unset.',
    });
  }
  return tenant;
}
