import type { Config } from '../config/schema.js';
import { grantExpired } from './guardrails.js';
import { revealFinding } from './reveal.js';
import { runSandboxed, sandboxVerdict } from './sandbox.js';
import { tenantGates, type TenantBinding } from './tenant.js';
import { gateLog, type GateResult } from './gates.js';

/**
 * The policy decision for `outloop run`: pure, like decide(), and like it imports no backend and no
 * runner. Gates in order: tenant, assertion (the same two as exec), service (each named service granted
 * and not expired), run (each grant has `run: true`, and a sandbox is available where one says `sandbox:
 * required`), env (what would be injected: names that execute
 * code refused, --env-file references must be this tenant's own), command (no reveal command).
 */
export type RunDenyCode =
  | 'no_tenant'
  | 'wrong_tenant'
  | 'service_not_granted'
  | 'grant_expired'
  | 'run_not_allowed'
  | 'unsafe_env_name'
  | 'env_name_conflict'
  | 'env_ref_not_granted'
  | 'reveal_command'
  | 'sandbox_unavailable';

export type RunGateName = 'tenant' | 'assertion' | 'service' | 'run' | 'env' | 'command';
export const RUN_GATES: readonly RunGateName[] = ['tenant', 'assertion', 'service', 'run', 'env', 'command'];

export type RunGate = GateResult<RunGateName>;

/** One `NAME=reference` line of an --env-file. */
export interface EnvFileRef {
  name: string;
  ref: string;
  /** Where it was written, for messages: `deploy.env:3`. */
  at: string;
}

export interface RunRequest {
  services: string[];
  argv: string[];
  assertedTenant?: string | undefined;
  cwd: string;
  envFileRefs?: EnvFileRef[];
  /** Plain `NAME=value` lines of the --env-file: only their names matter here. */
  envFilePlain?: { name: string; at: string }[];
  /** `--placeholders`: every injected secret goes as a placeholder, whatever the grants say. */
  placeholders?: boolean;
}

export interface RunContext {
  binding: TenantBinding | null;
  tenants: Config['tenants'];
  configFile: string;
  now?: number;
  /** Can this machine sandbox a child (found by the broker, only when a named grant requires it)? */
  sandboxAvailable?: boolean;
  /**
   * How one argv word may be shown in a reason (the broker masks secret shapes). Reasons reach the audit
   * log and stderr, and a command line can carry a value (`env GITHUB_TOKEN=ghp_... `).
   */
  showWord?: (word: string) => string;
}

/** An argv for a message: assignments as NAME=…, every other word as the context allows. */
function shownArgv(argv: readonly string[], ctx: RunContext): string {
  return argv.map((w) => (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) ? `${w.slice(0, w.indexOf('='))}=…` : (ctx.showWord?.(w) ?? w))).join(' ');
}

export interface RunPlan {
  tenant: string;
  project: string;
  services: string[];
  argv: string[];
  /** Environment name -> reference as written (`{{tenant}}` not yet expanded): what is read and injected. */
  secretRefs: Record<string, string>;
  /** A named grant (or its tenant) says `sandbox: required`: the command runs sandboxed (policy/sandbox.ts runSandboxed). */
  sandboxed: boolean;
  /** Names injected as placeholders (the grant's `placeholder: true`, or --placeholders) -> the service whose hosts get the value. */
  placeholders: Record<string, string>;
}

export type RunDecision =
  | { allow: true; gates: RunGate[]; plan: RunPlan }
  | { allow: false; gates: RunGate[]; code: RunDenyCode; reason: string; next: string };

/**
 * Names whose value the dynamic loader, a shell, an interpreter or git runs as code or uses to find
 * code. A secret bound under one of them would let whoever controls that secret's value run code in every
 * wrapped script, so `outloop run` never sets them, whatever config.yaml or an --env-file says.
 */
const CODE_NAMES = new Set([
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'GLIBC_TUNABLES',
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE',
  'BASH_ENV', 'ENV', 'PROMPT_COMMAND', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'IFS', 'CDPATH',
  'PYTHONSTARTUP', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT',
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB',
  'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH',
  'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_PAGER', 'GIT_EDITOR', 'GIT_EXTERNAL_DIFF', 'GIT_PROXY_COMMAND',
  'PAGER', 'EDITOR', 'VISUAL', 'LESSOPEN', 'LESSCLOSE', 'BROWSER',
  'PATH', 'HOME', 'SHELL',
]);
const CODE_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'GIT_CONFIG_'];

/** Why `name` may never be injected, or undefined. */
export function unsafeEnvName(name: string): string | undefined {
  if (CODE_NAMES.has(name)) return `${name} makes programs load or run code, or find their commands, by its value`;
  const p = CODE_PREFIXES.find((x) => name.startsWith(x));
  return p ? `${p}* variables make programs load or run code by their value` : undefined;
}

const expand = (ref: string, tenant: string) => ref.replaceAll('{{tenant}}', tenant);

export function decideRun(req: RunRequest, ctx: RunContext): RunDecision {
  const log = gateLog(RUN_GATES);
  const gates = log.gates;
  const { pass, fail } = log;
  const deny = (name: RunGateName, code: RunDenyCode, reason: string, next: string): RunDecision => ({ allow: false, gates: fail(name, reason), code, reason, next });

  const t = tenantGates(ctx.binding, req.assertedTenant, req.cwd, ctx.configFile);
  for (const g of t.passed) pass(g.name, g.detail);
  if (!t.ok) return deny(t.gate, t.code, t.reason, t.next);
  const b = t.binding;
  const now = ctx.now ?? Date.now();

  const granted = ctx.tenants[b.tenant]?.services ?? {};
  const grants = [];
  for (const s of req.services) {
    // Own properties only: a service called "constructor" must not find Object.prototype.constructor.
    const grant = Object.hasOwn(granted, s) ? granted[s] : undefined;
    if (!grant) {
      return deny('service', 'service_not_granted', `tenant "${b.tenant}" has no grant for service "${s}"`,
        `Ask a person to add tenants.${b.tenant}.services.${s} (with run: true) to ${ctx.configFile}.`);
    }
    const ended = grantExpired(grant, now);
    if (ended) {
      return deny('service', 'grant_expired', `tenant "${b.tenant}"'s grant for service "${s}" ended at ${ended.until}`,
        `Stop: this access was temporary. Ask a person to renew it (tenants.${b.tenant}.services.${s}.until in ${ctx.configFile}) if it is still needed.`);
    }
    grants.push({ service: s, grant });
  }
  pass('service', `${req.services.join(', ')} granted to ${b.tenant}`);

  const noRun = grants.find((g) => !g.grant.run);
  if (noRun) {
    return deny('run', 'run_not_allowed', `tenant "${b.tenant}"'s grant for service "${noRun.service}" does not allow \`outloop run\` (run: false)`,
      `Use a recipe instead (\`outloop recipes list\`), or ask a person to set tenants.${b.tenant}.services.${noRun.service}.run: true in ${ctx.configFile}.`);
  }
  const boxed = grants.filter((g) => runSandboxed(ctx.tenants[b.tenant], g.grant));
  if (boxed[0]) {
    const where = boxed[0].grant.sandbox ? `tenants.${b.tenant}.services.${boxed[0].service}.sandbox` : `tenants.${b.tenant}.sandbox`;
    const v = sandboxVerdict('required', ctx.sandboxAvailable, where);
    if (!v.ok) return deny('run', 'sandbox_unavailable', v.reason, v.next);
  }
  pass('run', `run: true in every named grant${boxed.length ? `; sandbox required (${boxed.map((g) => g.service).join(', ')})` : ''}`);

  const secretRefs: Record<string, string> = {};
  const from: Record<string, string> = {};
  const owner: Record<string, string> = {};
  const add = (name: string, ref: string, where: string, service?: string): RunDecision | undefined => {
    const unsafe = unsafeEnvName(name);
    if (unsafe) {
      return deny('env', 'unsafe_env_name', `${where} would set ${name}, which outloop run never injects: ${unsafe}`,
        `Bind the secret under another name (e.g. MY_${name.replace(/^_+/, '')}) in ${where.includes(':') ? where.split(':')[0] : ctx.configFile}.`);
    }
    if (Object.hasOwn(secretRefs, name) && expand(secretRefs[name]!, b.tenant) !== expand(ref, b.tenant)) {
      return deny('env', 'env_name_conflict', `${name} is bound to two different references (${from[name]} and ${where})`,
        'Give one of them another name, or run with only one of the services.');
    }
    secretRefs[name] = ref;
    from[name] = where;
    if (service) owner[name] ??= service;
    return undefined;
  };
  for (const { service, grant } of grants) {
    for (const [name, ref] of Object.entries(grant.secrets)) {
      const d = add(name, ref, `tenants.${b.tenant}.services.${service}.secrets`, service);
      if (d) return d;
    }
  }
  // An --env-file may only name references this tenant's named grants already bind: otherwise a file
  // (or a skill that ships one) could read another tenant's `local:globex/stripe` through acme's grant.
  const allowedRefs = new Set(grants.flatMap((g) => Object.values(g.grant.secrets).map((r) => expand(r, b.tenant))));
  for (const e of req.envFileRefs ?? []) {
    if (!allowedRefs.has(expand(e.ref, b.tenant))) {
      return deny('env', 'env_ref_not_granted', `${e.at}: ${e.name}=${e.ref} is not bound in tenant "${b.tenant}"'s grant for ${req.services.join(', ')}`,
        `Use a reference listed under tenants.${b.tenant}.services.<service>.secrets in ${ctx.configFile}, or ask a person to bind it there.`);
    }
    const d = add(e.name, e.ref, e.at, grants.find((g) => Object.values(g.grant.secrets).some((r) => expand(r, b.tenant) === expand(e.ref, b.tenant)))?.service);
    if (d) return d;
  }
  for (const p of req.envFilePlain ?? []) {
    const unsafe = unsafeEnvName(p.name);
    if (unsafe) {
      return deny('env', 'unsafe_env_name', `${p.at} would set ${p.name}, which outloop run never injects: ${unsafe}`,
        `Remove ${p.name} from ${p.at.split(':')[0]}; set it yourself outside outloop if you really mean it.`);
    }
  }
  const names = Object.keys(secretRefs);
  pass('env', names.length ? names.map((n) => `${n} -> ${secretRefs[n]}`).join(', ') : 'no secrets bound');

  const reveal = revealFinding(req.argv, new Set(names));
  if (reveal) {
    return deny('command', 'reveal_command', `refused to run \`${shownArgv(reveal.command, ctx)}\`: ${reveal.why}`,
      'Run the script or program that needs the secrets; outloop run never shows their values (output is redacted anyway).');
  }
  pass('command', shownArgv(req.argv, ctx));

  const placeholders: Record<string, string> = {};
  for (const n of names) {
    const svc = owner[n]!;
    if (req.placeholders || grants.find((g) => g.service === svc)?.grant.placeholder) placeholders[n] = svc;
  }
  return { allow: true, gates, plan: { tenant: b.tenant, project: b.project, services: req.services, argv: req.argv, secretRefs, sandboxed: boxed.length > 0, placeholders } };
}
