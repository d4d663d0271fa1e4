import type { Config } from '../config/schema.js';
import { newAuditId, type AuditEntry } from '../audit/index.js';
import { openAuditLog } from '../audit/install.js';
import { asOutloopError, Exit, OutloopError, denyExitCode } from '../errors.js';
import { aimRendered, decide, type Decision, type Plan } from '../policy/decide.js';
import type { Usage } from '../policy/guardrails.js';
import { BudgetStore } from './budgets.js';
import { ApprovalStore } from './approvals.js';
import type { Approvals } from '../policy/approvals.js';
import { sandboxModeFor } from '../policy/sandbox.js';
import type { Lookup } from '../sandbox/proxy.js';
import type { SandboxAudit, SandboxedRun, SandboxTarget } from '../sandbox/run.js';
import type { NetworkNote } from '../sandbox/egress-notes.js';
import { loadService } from '../recipe/load.js';
import { serviceNames } from '../recipe/load.js';
import { redirectOrigins } from '../recipe/redirect.js';
import { renderRecipe } from '../recipe/render.js';
import type { Template } from '../recipe/template.js';
import { createRunDir } from '../runner/workdir.js';
import { childEnv } from '../runner/env.js';
import { runChild, runChildInPty, type ChildSpec } from '../runner/spawn.js';
import { recipePath, resolveRecipeCommand, stateHashCache, type ResolvedCommand } from '../runner/which.js';
import type { BackendRegistry } from '../secrets/backend.js';
import { loadRequestContext, type Environment } from './context.js';
import { armRedaction } from './redactor.js';
import { readSecrets } from './secrets.js';
import { endSink, RedactingSink } from './sinks.js';
import type { OutputStream } from '../util/output-stream.js';
import type { RunOutputExtras } from '../output/run.js';

/**
 * The broker pipeline. Every way in (exec, check, --dry-run, MCP) goes through `handleRequest`:
 *
 *   load config + recipes  ->  decide (pure)  ->  audit "start"  ->  read secrets  ->  run child through
 *   the redactor  ->  audit "end"
 *
 * A denial, a check and a dry run stop after `decide` with one audit record, before any backend is loaded,
 * so "deny before touching" is a property of the order here and of decide() importing no backend.
 */
export type Mode = 'exec' | 'check' | 'mcp';

export interface BrokerRequest {
  service: string;
  recipe: string;
  params: Record<string, string>;
  assertedTenant?: string | undefined;
  mode: Mode;
  /** Decide and show what would run; never read a secret. */
  dryRun?: boolean;
  /** Keep an asciicast recording of this run (also when the grant says `record: true`). */
  record?: boolean;
}

export interface BrokerDeps extends Environment {
  /** Secret backends, created lazily; tests inject a counting registry. */
  backends: (storeKey: 'auto' | 'keychain' | 'file') => BackendRegistry;
  /** Where the child's redacted output goes: streamed to these, or collected for --json. */
  output: { stdout: OutputStream; stderr: OutputStream } | 'collect';
  /**
   * TESTS ONLY (the recipe library's vendor stand-ins): origin -> local origin, rewritten in what runs after
   * the host gate passed. Nothing in src/cli or src/mcp sets it, and no env var, flag or config key reaches it.
   */
  testOnlyRedirect?: ReadonlyMap<string, string>;
  /** Name resolution for the egress proxy (tests); the system resolver otherwise. */
  egressLookup?: Lookup;
  /** The machine fact "a sandbox is available here", when the embedder (a test) states it instead of a probe. */
  sandboxAvailable?: boolean;
}

export type BrokerOutcome =
  | { kind: 'denied'; auditId: string; decision: Extract<Decision, { allow: false }>; exitCode: number; approvalId?: string }
  | { kind: 'checked'; auditId: string; decision: Decision; exitCode: number }
  | { kind: 'dry-run'; auditId: string; plan: Plan; decision: Decision; exitCode: 0 }
  | {
      kind: 'ran';
      auditId: string;
      plan: Plan;
      exitCode: number;
      timedOut: boolean;
      redactions: number;
      durationMs: number;
      stdout: string;
      stderr: string;
      /** maxOutput was reached: the child was stopped and its output cut. */
      truncated?: boolean;
      /** Connections the egress proxy refused or could not make, each with the next step. */
      network?: NetworkNote[];
    };

/** An error after the attempt began, with its audit id so the caller can point at the record. */
export class AttemptError extends OutloopError {
  constructor(
    readonly inner: OutloopError,
    readonly auditId: string,
  ) {
    super(inner.code, inner.exitCode, inner.message, { next: inner.next, cause: inner });
  }
}

export async function handleRequest(req: BrokerRequest, deps: BrokerDeps): Promise<BrokerOutcome> {
  const { id, started, record, prepare } = openAttempt(deps, { mode: req.mode, service: req.service, recipe: req.recipe });
  const { ctx, service } = await prepare(async () => {
    const ctx = await loadRequestContext(deps);
    return { ctx, service: await loadService(req.service, ctx.recipeDirs, ctx.cache) };
  });

  const now = Date.now();
  // The machine fact policy needs, found before decide() and so before any backend: only for a request
  // that has a grant and does not turn the sandbox off, and the sandbox code loads only then.
  const boxMode = sandboxModeFor(ctx.config.config.tenants, ctx.binding?.tenant, req.service);
  // Only `required` turns the fact into a decision, and only check and dry runs show it; an ordinary `auto`
  // run finds out in sandboxRun (from the same cached probe), so a denial never probes.
  const needFact = boxMode === 'required' || ((req.mode === 'check' || req.dryRun) && boxMode === 'auto');
  const sandboxAvailable = boxMode === undefined || boxMode === 'off' ? false : deps.sandboxAvailable ?? (needFact ? await sandboxFact(deps) : true);
  const policy = (usage?: Usage, approvals?: Approvals) =>
    decide(
      { service: req.service, recipe: req.recipe, params: req.params, assertedTenant: req.assertedTenant, cwd: ctx.cwd },
      { binding: ctx.binding, tenants: ctx.config.config.tenants, service, ...(service ? {} : { serviceNames: serviceNames(ctx.recipeDirs) }), configFile: ctx.config.file, now, usage, approvals, sandboxAvailable },
    );
  const look = req.mode === 'check' || Boolean(req.dryRun);
  // Budgets need counts shared by every process: decide again with them, and for a real run charge this
  // call in the same locked step, so concurrent loops never overspend. check and dry runs only look.
  const withBudgets = async (approvals?: Approvals): Promise<Decision> => {
    const d = policy(undefined, approvals);
    if (!d.allow || !d.plan.budgets.length) return d;
    const store = new BudgetStore(deps.homes.stateDir);
    return look
      ? policy(store.peek(), approvals)
      : store.charge(now, (usage) => {
          const d2 = policy(usage, approvals);
          return { result: d2, charge: d2.allow ? d2.plan.budgets : [] };
        });
  };
  let decision: Decision;
  try {
    decision = await withBudgets();
    // Approvals, too, are shared: decide again with the records, and for a real run mark the approval used
    // (or create the pending request) in the same locked step. Lock order: approvals, then budgets.
    if (!decision.allow && decision.code === 'approval_required') {
      const store = new ApprovalStore(deps.homes.stateDir);
      decision = look ? await withBudgets(store.peek()) : await store.settle(now, (approvals) => withBudgets(approvals));
    }
  } catch (err) {
    const e = asOutloopError(err);
    await record({ phase: 'end', decision: 'error', code: e.code, reason: e.message, exitCode: e.exitCode });
    throw new AttemptError(e, id);
  }
  const who = { project: ctx.binding?.project ?? null, tenant: ctx.binding?.tenant ?? null };

  if (!decision.allow) {
    // `check` answers one question, allowed or not: 0 or 77 whatever the reason (the code says which).
    const exitCode = req.mode === 'check' ? Exit.denied : denyExitCode(decision.code);
    const approvalId = req.mode === 'check' ? undefined : decision.approval?.pendingId;
    if (decision.code === 'approval_required' && req.mode !== 'check') {
      decision.next = approvalId
        ? `Ask a person to run: outloop approve ${approvalId}; then re-run this exact command (or add --wait to wait for the answer).`
        : 'Nothing was requested (dry run); run without --dry-run to ask a person for approval.';
    }
    await record({
      ...who,
      phase: 'end',
      decision: decision.code === 'approval_required' && req.mode !== 'check' ? 'approval_required' : 'deny',
      code: decision.code,
      reason: decision.reason,
      exitCode,
      params: req.params,
      ...(approvalId ? { approvalId } : {}),
    });
    return req.mode === 'check'
      ? { kind: 'checked', auditId: id, decision, exitCode }
      : { kind: 'denied', auditId: id, decision, exitCode, ...(approvalId ? { approvalId } : {}) };
  }
  const plan = decision.plan;
  const planFields = {
    ...who,
    params: plan.params,
    recipeSha256: plan.recipe.fileSha256,
    secrets: Object.entries(plan.secretRefs).map(([name, ref]) => ({ name, ref })),
    ...(plan.placeholders ? { placeholders: plan.placeholders } : {}),
  };
  if (req.mode === 'check' || req.dryRun) {
    await record({ ...planFields, ...(plan.approval ? { approvalId: plan.approval.id } : {}), phase: 'end', decision: 'allow', exitCode: 0, ...(req.dryRun ? { dryRun: true } : {}) });
    return req.mode === 'check'
      ? { kind: 'checked', auditId: id, decision, exitCode: 0 }
      : { kind: 'dry-run', auditId: id, plan, decision, exitCode: 0 };
  }

  const result = await runAttempt(
    record,
    id,
    { ...planFields, ...(plan.approval ? { approvalId: plan.approval.id } : {}) },
    (scrubber) => ({ params: Object.fromEntries(Object.entries(plan.params).map(([k, v]) => [k, scrubber.scrub(v)])) }),
    (scrubber) => runPlan(plan, deps, ctx.config.config, scrubber, {
      auditId: id, mode: req.mode, record: Boolean(req.record || plan.record), retention: ctx.config.config.recordRetention }),
    (r) => ({ ...(r.timedOut ? { code: 'timeout', reason: `timed out after ${plan.recipe.timeoutMs} ms` } : {}), commandFile: { path: r.command.path, sha256: r.command.sha256 }, ...r.sandbox }),
  );
  const { sandbox: box, command: _command, ...ran } = result;
  return { kind: 'ran', auditId: id, plan, durationMs: Date.now() - started, ...ran, ...(box.truncated ? { truncated: true } : {}) };
}

/**
 * The attempt's audit trail: one id and clock, and the fields every record of it carries. Shared by every
 * way in (exec, check, MCP, run) so their records have one shape.
 */
export function openAttempt(deps: Pick<BrokerDeps, 'homes'>, base: Pick<AuditEntry, 'mode' | 'service' | 'recipe'>) {
  const started = Date.now();
  const audit = openAuditLog(deps.homes);
  const id = newAuditId();
  const record = (e: Partial<AuditEntry> & Pick<AuditEntry, 'phase' | 'decision'>) =>
    audit.append({ id, mode: base.mode, project: null, tenant: null, service: base.service, recipe: base.recipe, exitCode: null, durationMs: Date.now() - started, redactions: 0, ...e });
  /** Load what the attempt is decided against. Invalid config or recipes: nothing runs, but it is on record. */
  const prepare = async <T>(load: () => Promise<T>, extra: Partial<AuditEntry> = {}): Promise<T> => {
    try {
      return await load();
    } catch (err) {
      const e = asOutloopError(err);
      await record({ ...extra, phase: 'end', decision: 'error', code: e.code, reason: e.message, exitCode: e.exitCode });
      throw new AttemptError(e, id);
    }
  };
  return { id, started, record, prepare };
}
type RecordFn = ReturnType<typeof openAttempt>['record'];

/**
 * From "start" to "end" of an allowed attempt. It is on record before any secret is read, so even a
 * SIGKILL mid-run leaves a trace. Once values are read, every string outloop itself writes (error text,
 * the end record) passes the same redactor as the child's output: a backend message, a parameter or an
 * argv could carry a value. `scrubbed` gives the fields to rewrite with the scrubber for the end record.
 */
export async function runAttempt<R extends { exitCode: number; redactions: number }>(
  record: RecordFn,
  id: string,
  fields: Partial<AuditEntry> & { secrets: Scrubber['secrets'] },
  scrubbed: (s: Scrubber) => Partial<AuditEntry>,
  run: (s: Scrubber) => Promise<R>,
  endExtra: (r: R) => Partial<AuditEntry> = () => ({}),
): Promise<R> {
  await record({ ...fields, phase: 'start', decision: 'allow' });
  let redactions = 0;
  const scrubber: Scrubber = { scrub: (text) => text, secrets: fields.secrets, extras: {} };
  // scrubber.extras (shaping counts, the recording link) is filled in during the run: read it at the end.
  const end = () => ({ ...fields, ...scrubbed(scrubber), secrets: scrubber.secrets, ...scrubber.extras, ...(scrubber.shortSecrets ? { shortSecrets: scrubber.shortSecrets } : {}) });
  let result: R;
  try {
    result = await run(scrubber);
  } catch (err) {
    const raw = asOutloopError(err);
    const e = new OutloopError(raw.code, raw.exitCode, scrubber.scrub(raw.message), { next: raw.next === undefined ? undefined : scrubber.scrub(raw.next) });
    await record({ ...end(), phase: 'end', decision: 'error', code: e.code, reason: e.message, exitCode: e.exitCode, redactions });
    throw new AttemptError(e, id);
  }
  redactions = result.redactions;
  try {
    await record({ ...end(), phase: 'end', decision: 'allow', exitCode: result.exitCode, redactions, ...endExtra(result) });
  } catch (err) {
    // The child ran: its effect may have happened. Say so, never "nothing was run" (which a fallback
    // record's failure would say), so nobody retries a payment because the log was full.
    throw new AttemptError(new RanUnrecordedError(result, asOutloopError(err), id, scrubber.scrub), id);
  }
  return result;
}

/**
 * The child ran to the end, but its end record could not be written (disk full, the log made immutable
 * mid-run). Exit 70 like any audit failure, worded so that it forbids a blind retry, and with what --json
 * needs to tell: `ran: true`, the child's exit code, and its (redacted) output.
 */
export class RanUnrecordedError extends OutloopError {
  readonly envelope: Record<string, unknown>;
  constructor(result: { exitCode: number; stdout?: unknown; stderr?: unknown; timedOut?: unknown }, audit: OutloopError, auditId: string, scrub: (s: string) => string) {
    super(
      'ran_unrecorded',
      Exit.internal,
      `the command ran and exited ${result.exitCode}, but its end record could not be written (${scrub(audit.message)}); do not retry blindly: what it did may already have taken effect`,
      {
        next: `Check whether the action took effect before running it again, then fix the audit log (space, permissions, immutable flag); its start record ${auditId} has no end record.`,
        cause: audit,
      },
    );
    this.envelope = {
      ran: true,
      childExitCode: result.exitCode,
      ...(typeof result.timedOut === 'boolean' ? { timedOut: result.timedOut } : {}),
      ...(typeof result.stdout === 'string' ? { stdout: result.stdout } : {}),
      ...(typeof result.stderr === 'string' ? { stderr: result.stderr } : {}),
      auditError: audit.code,
    };
  }
}

function startsWithRecipeDir(t: Template): boolean {
  const first = t.tokens[0];
  return first !== undefined && 'ref' in first && first.ref.ns === 'recipe.dir';
}

/** What the end record needs from inside the run: a redactor for text, and the secrets as read. */
export interface Scrubber {
  scrub: (text: string) => string;
  /** name and reference, plus the value's fingerprint once it has been read. */
  secrets: { name: string; ref: string; fingerprint?: string }[];
  /** Output shaping counts and the recording link (src/output/run.ts). */
  extras: RunOutputExtras;
  /** Values read that are too short to mask well (names and lengths only; redact/short-values.ts). */
  shortSecrets?: { name: string; code: string; bytes: number }[];
}

/** The machine fact "a sandbox is available here": stated by the embedder (a test), or probed (cached in the state folder). */
export async function sandboxFact(deps: BrokerDeps): Promise<boolean> {
  const { detectSandbox, probeCacheFile } = await import('../sandbox/detect.js');
  return deps.sandboxAvailable ?? detectSandbox(deps.env.PATH, process.platform, probeCacheFile(deps.homes.stateDir)).available;
}

/**
 * Start the child the way the sandbox rewrites it (src/sandbox/run.ts: bwrap or sandbox-exec, the egress
 * proxy, output and memory limits) and, however the run ends, stop the proxy and collect the audit fields.
 * `go` runs the rewritten child with the capped sinks; shared by exec and `outloop run`.
 */
export async function inSandbox<R>(target: SandboxTarget, spec: ChildSpec, deps: BrokerDeps, scrub: (s: string) => string,
  go: (box: SandboxedRun) => Promise<R>): Promise<{ res: R; sandbox: SandboxAudit; network: NetworkNote[] }> {
  const { sandboxRun } = await import('../sandbox/run.js');
  const box = await sandboxRun({ target, spec, homes: deps.homes, path: deps.env.PATH, lookup: deps.egressLookup, userHome: deps.env.HOME });
  const out = deps.output;
  const notes = out === 'collect' ? undefined : () => out.stderr;
  let res: R;
  try {
    res = await go(box);
  } catch (err) {
    await box.finish(notes, scrub);
    throw err;
  }
  const sandbox = await box.finish(notes, scrub);
  return { res, sandbox, network: box.network };
}

async function runPlan(plan: Plan, deps: BrokerDeps, config: Config, scrubber: Scrubber,
  run: { auditId: string; mode: Mode; record: boolean; retention: string | undefined }) {
  const { recipe } = plan;
  // Checked before any secret is read, so a missing tool costs no backend call. Never from the caller's
  // PATH (runner/which.ts): the agent sets it, and its own `curl` would receive the key.
  const found = resolveRecipeCommand(
    { inRecipeDir: startsWithRecipeDir(recipe.run[0]!), rendered: plan.preview.argv[0]!, recipeFile: recipe.file, recipeDir: recipe.dir, execPath: process.execPath },
    stateHashCache(deps.homes.stateDir),
  );
  if (!found.ok) {
    throw new OutloopError(found.code, found.code === 'command_not_found' ? Exit.commandNotFound : Exit.config, `${found.message} (needed by ${plan.service}.${recipe.name})`, { next: found.next });
  }
  const command: ResolvedCommand = found.cmd;
  if (plan.placeholders && !recipe.hosts.length) {
    throw new OutloopError('placeholder_no_hosts', Exit.config, `${plan.service}.${recipe.name} has no hosts, so a placeholder could reach no one`, {
      next: `Add hosts to ${recipe.file}, or drop placeholder: true from the grant.`,
    });
  }
  const secrets = await readSecrets(plan.secretRefs, plan.tenant, deps.backends(config.storeKey));
  const values = new Map(secrets.map((s) => [s.name, s.value]));
  // Placeholders: the child's templates get the sentinels; the proxy alone holds the values.
  const ph = plan.placeholders
    ? (await import('../placeholder/plan.js')).placeholderSecrets(secrets, Object.fromEntries(plan.placeholders.map((n) => [n, plan.service])),
      new Map([[plan.service, { hosts: recipe.hosts, ...(recipe.sign ? { sign: recipe.sign } : {}), surfaces: Object.fromEntries(Object.entries(recipe.placeholders ?? {}).map(([k, v]) => [k, new Set<string>(v)])) }]]))
    : undefined;
  for (const p of ph ?? []) values.set(p.name, p.sentinel);
  let rendered = renderRecipe(recipe, {
    params: plan.params,
    secret: (n) => values.get(n) ?? '',
    tenant: plan.tenant,
    project: plan.project,
  });
  // The grant's baseUrl, exactly as decide() judged it in the preview.
  rendered = aimRendered(rendered, plan.baseUrl);
  if (deps.testOnlyRedirect) rendered = redirectOrigins(rendered, deps.testOnlyRedirect);
  const redactor = await armRedaction(secrets, config.redact, scrubber, deps.homes.stateDir, { params: Object.values(plan.params) });
  const out = deps.output;
  // Output contracts and recordings (src/output/run.ts) load only for runs that use them: exec's start-up.
  const shown = plan.output || run.record
    ? new (await import('../output/run.js')).RunOutput({ ...run, contract: plan.output, stateDir: deps.homes.stateDir, tenant: plan.tenant,
      target: `${plan.service}.${recipe.name}`, stdout: out === 'collect' ? 'collect' : out.stdout,
      redact: (t) => { const r = redactor.redactStringCounted(t); return { text: r.output, count: r.count }; } })
    : undefined;
  if (shown) scrubber.extras = shown.extras;
  // Made once the child is spawned (sinks.ts): the shape rules' compile and the caller's stdout/stderr.
  const stdout = new RedactingSink(() => redactor.stream(), shown?.stdoutDest ?? (out === 'collect' ? 'collect' : () => out.stdout), shown?.tap('stdout'));
  const stderr = new RedactingSink(() => redactor.stream(), out === 'collect' ? 'collect' : () => out.stderr, shown?.tap('stderr'));
  shown?.bind(stdout);
  const runDir = createRunDir(rendered.files);
  let failure: OutloopError | undefined;
  let sandboxFields: SandboxAudit;
  try {
    const env = childEnv(deps.env, runDir.path, { PATH: recipePath(), ...rendered.env });
    const spec = { argv: [command.path, ...rendered.argv.slice(1)], env, cwd: runDir.path, stdin: rendered.stdin, timeoutMs: recipe.timeoutMs, dieWithParent: true, contain: true };
    // Sandbox, egress proxy and output/memory limits (src/sandbox): loaded only for a run.
    const { targetFromPlan } = await import('../sandbox/run.js');
    const target = targetFromPlan(plan);
    if (ph) target.placeholders = { secrets: ph };
    // The test-only redirect sends the child to local stand-ins: the proxy must let it reach them.
    if (deps.testOnlyRedirect) target.hosts = [...target.hosts, ...[...deps.testOnlyRedirect.values()].map((o) => new URL(o).host)];
    let res, network;
    ({ res, sandbox: sandboxFields, network } = await inSandbox(target, spec, deps, scrubber.scrub, async (box) => {
      const sinks = box.sinks({ stdout, stderr });
      const r = await (recipe.pty ? runChildInPty : runChild)(box.spec, sinks);
      // What the child wrote to (maxOutput's cap over each sink), so its last writes reach the sinks first.
      await Promise.all([endSink(sinks.stdout), endSink(sinks.stderr)]);
      return r;
    }));
    const exitCode = res.timedOut ? Exit.timeout : res.exitCode;
    const shaped = shown ? await shown.finish({ exitCode, timedOut: res.timedOut }, stdout.text()) : { stdout: stdout.text(), redactions: 0 };
    return {
      sandbox: sandboxFields,
      command,
      ...(network.length ? { network } : {}),
      exitCode,
      timedOut: res.timedOut,
      redactions: stdout.count + stderr.count + shaped.redactions,
      stdout: shaped.stdout,
      stderr: stderr.text(),
    };
  } catch (err) {
    failure = asOutloopError(err);
    throw err;
  } finally {
    // The error line goes in as the caller prints it (redacted by handleRequest's scrubber, like the record).
    shown?.close(failure && { code: failure.code, message: scrubber.scrub(failure.message), next: failure.next && scrubber.scrub(failure.next) });
    runDir.remove();
  }
}
