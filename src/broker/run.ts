import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { denyExitCode, Exit, OutloopError, UsageError } from '../errors.js';
import { decideRun, type RunDecision, type RunPlan } from '../policy/run.js';
import { sandboxModeFor } from '../policy/sandbox.js';
import { loadService } from '../recipe/load.js';
import type { SandboxAudit, SandboxTarget } from '../sandbox/run.js';
import { looksLikeSecretValue, parseEnvFile, runEnv, type EnvFile } from '../runner/run-env.js';
import { FORWARDED, READER_GONE, runChild, STOP_CHILD, wrappedArgv, type ChildSpec } from '../runner/spawn.js';
import { armGroupWatchdog } from '../runner/watchdog.js';
import { findExecutable } from '../runner/which.js';
import { loadRequestContext, type RequestContext } from './context.js';
import type { NetworkNote } from '../sandbox/egress-notes.js';
import { inSandbox, openAttempt, runAttempt, sandboxFact, type BrokerDeps, type Scrubber } from './exec.js';
import { armRedaction } from './redactor.js';
import { readSecrets } from './secrets.js';
import { endSink, RedactingSink } from './sinks.js';
import type { Sink } from '../runner/sink.js';

/**
 * `outloop run`: the broker pipeline of exec (load -> decide (pure) -> audit start -> read secrets -> run
 * through the redactor -> audit end, through exec.ts's openAttempt/runAttempt) with its own decision
 * (policy/run.ts) and its own plan: the user's argv, in the user's folder, with the user's environment
 * minus anything secret-like plus the granted secrets (runner/run-env.ts), under a pseudo-terminal or pipes.
 */
export interface RunBrokerRequest {
  services: string[];
  argv: string[];
  assertedTenant?: string | undefined;
  /** --env-file, relative to the working directory. */
  envFile?: string | undefined;
  /** Run under a pseudo-terminal (the CLI decides: --pty, --no-pty, or whether stdout is a terminal). */
  pty: boolean;
  /** --placeholders: every secret goes as a placeholder. */
  placeholders?: boolean;
}

export type RunOutcome =
  | { kind: 'denied'; auditId: string; decision: Extract<RunDecision, { allow: false }>; exitCode: number }
  | { kind: 'ran'; auditId: string; plan: RunPlan; exitCode: number; redactions: number; durationMs: number; stdout: string; stderr: string; sandbox?: SandboxAudit;
      /** Connections the egress proxy refused or could not make (sandbox/egress-notes.ts). */
      network?: NetworkNote[] };

/** Before any value is read, an argv can only be masked by shape; after, by the values too. */
function maskArgv(argv: string[]): string[] {
  return argv.map((a) => {
    const shape = looksLikeSecretValue(a);
    return shape ? `[REDACTED:${shape}]` : a;
  });
}

/** --env-file's NAME=reference lines (none without the flag). */
function readEnvFile(file: string | undefined, cwd: string): EnvFile {
  if (file === undefined) return { refs: [], plain: [] };
  let text;
  try {
    text = readFileSync(isAbsolute(file) ? file : join(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --env-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { code: 'bad_env_file', next: 'Pass an existing file of NAME=reference lines.' });
  }
  return parseEnvFile(text, file);
}

export async function handleRun(req: RunBrokerRequest, deps: BrokerDeps): Promise<RunOutcome> {
  const { id, started, record, prepare } = openAttempt(deps, { mode: 'run', service: req.services.join(','), recipe: null });
  const argvShown = maskArgv(req.argv);
  const { ctx, envFile } = await prepare(async () => ({ ctx: await loadRequestContext(deps), envFile: readEnvFile(req.envFile, deps.cwd) }), { argv: argvShown });

  // The machine fact, found before the decision (so before any backend) and only when a named grant
  // requires the sandbox: an unsandboxed run never probes.
  const tenants = ctx.config.config.tenants;
  const needsBox = req.services.some((svc) => sandboxModeFor(tenants, ctx.binding?.tenant, svc) === 'required');
  const decision = decideRun(
    { services: req.services, argv: req.argv, assertedTenant: req.assertedTenant, cwd: ctx.cwd, envFileRefs: envFile.refs, envFilePlain: envFile.plain, placeholders: req.placeholders },
    { binding: ctx.binding, tenants, configFile: ctx.config.file, showWord: (w) => maskArgv([w])[0]!, ...(needsBox ? { sandboxAvailable: await sandboxFact(deps) } : {}) },
  );
  const who = { project: ctx.binding?.project ?? null, tenant: ctx.binding?.tenant ?? null };
  if (!decision.allow) {
    const exitCode = denyExitCode(decision.code);
    await record({ ...who, phase: 'end', decision: 'deny', code: decision.code, reason: decision.reason, exitCode, argv: argvShown, services: req.services });
    return { kind: 'denied', auditId: id, decision, exitCode };
  }
  const plan = decision.plan;
  const result = await runAttempt(
    record,
    id,
    {
      ...who,
      services: plan.services,
      // The start record is written before any value is known, so it names the command only; the end
      // record carries the whole argv, redacted with the values read.
      command: argvShown[0],
      pty: req.pty,
      secrets: Object.entries(plan.secretRefs).map(([name, ref]) => ({ name, ref })),
      ...(Object.keys(plan.placeholders).length ? { placeholders: Object.keys(plan.placeholders) } : {}),
    },
    (s) => ({ command: s.scrub(argvShown[0]!), argv: argvShown.map((a) => s.scrub(a)) }),
    (s) => runPlanned(plan, envFile, req.pty, deps, ctx, s),
    (r) => ({ envStripped: r.stripped, ...r.sandbox }),
  );
  return { kind: 'ran', auditId: id, plan, durationMs: Date.now() - started, ...result };
}

/**
 * The sandbox for a run whose grant says `sandbox: required`: the project folder (the tenant's project the
 * working directory belongs to) read-write and nothing else of the user's, and out only through the
 * egress proxy to the hosts of the named services' recipe files. A service without a recipe file has no
 * hosts, so no network at all. No output cap: a wrapped script is the user's own, streamed as it runs,
 * and was never capped unsandboxed.
 */
async function runTarget(plan: RunPlan, ctx: RequestContext, home: string | undefined): Promise<SandboxTarget> {
  const project = resolve(plan.project);
  // A project that is the home folder or above it (`/`) would show the whole home: no sandbox worth the name.
  if (home && (resolve(home) === project || resolve(home).startsWith(project.endsWith(sep) ? project : project + sep))) {
    throw new OutloopError('sandbox_project_too_wide', Exit.config, `the sandbox for ${plan.services.join(', ')} would show the project folder ${project}, which contains the home folder ${home}`, {
      next: `Bind a narrower project folder to tenant "${plan.tenant}" in ${ctx.config.file}, and run from there.`,
    });
  }
  return { label: plan.services.join(','), hosts: await unionHosts(plan, ctx), mode: 'required', available: true, paths: [{ path: project, mode: 'rw' }], maxOutput: Infinity };
}

async function unionHosts(plan: RunPlan, ctx: RequestContext): Promise<string[]> {
  const hosts = new Set<string>();
  for (const svc of plan.services) for (const h of (await serviceNet(svc, ctx)).hosts) hosts.add(h);
  return [...hosts];
}

/** A service's hosts and placeholder surfaces, as its recipe file's actions declare them (their union). */
async function serviceNet(svc: string, ctx: RequestContext): Promise<{ hosts: string[]; surfaces: Record<string, Set<string>>; sign?: 'aws-sigv4' }> {
  const hosts = new Set<string>();
  const surfaces: Record<string, Set<string>> = {};
  let sign: 'aws-sigv4' | undefined;
  for (const r of (await loadService(svc, ctx.recipeDirs, ctx.cache))?.recipes.values() ?? []) {
    sign ??= r.sign;
    for (const h of r.hosts) hosts.add(h);
    for (const [n, list] of Object.entries(r.placeholders ?? {})) for (const x of list) (surfaces[n] ??= new Set()).add(x);
  }
  return { hosts: [...hosts], surfaces, ...(sign ? { sign } : {}) };
}

async function runPlanned(plan: RunPlan, envFile: EnvFile, pty: boolean, deps: BrokerDeps, ctx: RequestContext, scrubber: Scrubber) {
  const config = ctx.config.config;
  const cmd = plan.argv[0]!;
  // Checked before any secret is read, so a typo costs no backend call.
  if (!findExecutable(cmd, deps.env.PATH, deps.cwd)) {
    throw new OutloopError('command_not_found', Exit.commandNotFound, `${cmd} not found on PATH`, { next: `Check the command after --, or install ${cmd}.` });
  }
  // Also before any secret: a broken recipe file stops a sandboxed run here.
  let target = plan.sandboxed ? await runTarget(plan, ctx, deps.env.HOME) : undefined;
  // Placeholders: each secret's service must name hosts (else the value could go nowhere), checked before any read.
  const phNames = Object.keys(plan.placeholders);
  const phNet = new Map<string, Awaited<ReturnType<typeof serviceNet>>>();
  for (const svc of new Set(Object.values(plan.placeholders))) {
    const net = await serviceNet(svc, ctx);
    if (!net.hosts.length) {
      throw new OutloopError('placeholder_no_hosts', Exit.config, `service "${svc}" has no recipe file with hosts, so a placeholder for it could reach no one`, {
        next: `Add a recipe file ${svc}.yaml with hosts: [...] to a recipe folder, or drop placeholder: true / --placeholders for ${svc}.`,
      });
    }
    phNet.set(svc, net);
  }
  if (phNames.length && !target) target = { label: plan.services.join(','), hosts: await unionHosts(plan, ctx), mode: 'auto', available: false, paths: [], maxOutput: Infinity };
  const secrets = await readSecrets(plan.secretRefs, plan.tenant, deps.backends(config.storeKey));
  const redactor = await armRedaction(secrets, config.redact, scrubber, deps.homes.stateDir);
  const given = Object.fromEntries(secrets.map((s) => [s.name, s.value]));
  if (phNames.length && target) {
    const { placeholderSecrets } = await import('../placeholder/plan.js');
    const ph = placeholderSecrets(secrets, plan.placeholders, phNet);
    for (const p of ph) given[p.name] = p.sentinel;
    target.placeholders = { secrets: ph, open: !plan.sandboxed };
  }
  const { env, stripped } = runEnv(
    deps.env,
    given,
    Object.fromEntries(envFile.plain.map((p) => [p.name, p.value])),
  );

  const out = deps.output;
  const stdout = new RedactingSink(redactor.stream(), out === 'collect' ? 'collect' : out.stdout);
  // Under a pty: one merged stream, as a terminal has, and one redactor over it, so a value split across
  // what would have been stdout and stderr is still one match.
  const stderr = pty ? undefined : new RedactingSink(redactor.stream(), out === 'collect' ? 'collect' : out.stderr);
  const spec: ChildSpec = { argv: plan.argv, env, cwd: deps.cwd, stdin: undefined, timeoutMs: Infinity, inheritStdin: true, dieWithParent: true };
  const launch = async (s: ChildSpec, sinks: { stdout: Sink; stderr: Sink }) => {
    let res;
    if (pty) {
      const { runPty } = await import('../runner/pty.js');
      res = await runPty({ ...s, argv: wrappedArgv(s), inheritStdin: true, forward: FORWARDED, readerGoneEvent: READER_GONE, stopEvent: STOP_CHILD, watch: armGroupWatchdog }, sinks.stdout);
    } else {
      res = await runChild({ ...s, forward: [...FORWARDED, 'SIGWINCH'] }, sinks);
    }
    // What the child wrote to (maxOutput's cap, in a sandbox), so its last writes reach the sinks first.
    await Promise.all([endSink(sinks.stdout), ...(stderr ? [endSink(sinks.stderr)] : [])]);
    return res;
  };
  const both = { stdout, stderr: stderr ?? stdout };
  const { res, sandbox, network } = target
    ? await inSandbox(target, spec, deps, scrubber.scrub, (box) => launch(box.spec, box.sinks(both)))
    : { res: await launch(spec, both), sandbox: undefined, network: [] };
  return {
    exitCode: res.exitCode,
    redactions: stdout.count + (stderr?.count ?? 0),
    stdout: stdout.text(),
    stderr: stderr?.text() ?? '',
    stripped,
    ...(sandbox ? { sandbox } : {}),
    ...(network.length ? { network } : {}),
  };
}
