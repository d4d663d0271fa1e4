import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fingerprint, installKey } from '../audit/fingerprint.js';
import { asOutloopError, denyExitCode, Exit, OutloopError, UsageError } from '../errors.js';
import { decideRun, type RunDecision, type RunPlan } from '../policy/run.js';
import { Redactor } from '../redact/index.js';
import { looksLikeSecretValue, parseEnvFile, runEnv, type EnvFile } from '../runner/run-env.js';
import { FORWARDED, READER_GONE, runChild, wrappedArgv } from '../runner/spawn.js';
import { armGroupWatchdog } from '../runner/watchdog.js';
import { findExecutable } from '../runner/which.js';
import { loadRequestContext } from './context.js';
import { AttemptError, openAttempt, runAttempt, type BrokerDeps, type Scrubber } from './exec.js';
import { readSecrets } from './secrets.js';
import { endSink, RedactingSink } from './sinks.js';

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
}

export type RunOutcome =
  | { kind: 'denied'; auditId: string; decision: Extract<RunDecision, { allow: false }>; exitCode: number }
  | { kind: 'ran'; auditId: string; plan: RunPlan; exitCode: number; redactions: number; durationMs: number; stdout: string; stderr: string };

/** Before any value is read, an argv can only be masked by shape; after, by the values too. */
function maskArgv(argv: string[]): string[] {
  return argv.map((a) => {
    const shape = looksLikeSecretValue(a);
    return shape ? `[REDACTED:${shape}]` : a;
  });
}

export async function handleRun(req: RunBrokerRequest, deps: BrokerDeps): Promise<RunOutcome> {
  const { id, started, record } = openAttempt(deps, { mode: 'run', service: req.services.join(','), recipe: null });
  const argvShown = maskArgv(req.argv);

  let ctx;
  let envFile: EnvFile = { refs: [], plain: [] };
  try {
    ctx = await loadRequestContext(deps);
    if (req.envFile !== undefined) {
      const path = isAbsolute(req.envFile) ? req.envFile : join(deps.cwd, req.envFile);
      let text;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --env-file ${req.envFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { code: 'bad_env_file', next: 'Pass an existing file of NAME=reference lines.' });
      }
      envFile = parseEnvFile(text, req.envFile);
    }
  } catch (err) {
    const e = asOutloopError(err);
    await record({ phase: 'end', decision: 'error', code: e.code, reason: e.message, exitCode: e.exitCode, argv: argvShown });
    throw new AttemptError(e, id);
  }

  const decision = decideRun(
    { services: req.services, argv: req.argv, assertedTenant: req.assertedTenant, cwd: ctx.cwd, envFileRefs: envFile.refs, envFilePlain: envFile.plain },
    { binding: ctx.binding, tenants: ctx.config.config.tenants, configFile: ctx.config.file },
  );
  const who = { project: ctx.binding?.project ?? null, tenant: ctx.binding?.tenant ?? null };
  if (!decision.allow) {
    const exitCode = denyExitCode(decision.code);
    await record({ ...who, phase: 'end', decision: 'deny', code: decision.code, reason: decision.reason, exitCode, argv: argvShown, services: req.services });
    return { kind: 'denied', auditId: id, decision, exitCode };
  }
  const plan = decision.plan;
  const storeKey = ctx.config.config.storeKey;
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
    },
    (s) => ({ command: s.scrub(argvShown[0]!), argv: argvShown.map((a) => s.scrub(a)) }),
    (s) => runPlanned(plan, envFile, req.pty, deps, storeKey, s),
    (r) => ({ envStripped: r.stripped }),
  );
  return { kind: 'ran', auditId: id, plan, durationMs: Date.now() - started, ...result };
}

async function runPlanned(plan: RunPlan, envFile: EnvFile, pty: boolean, deps: BrokerDeps, storeKey: 'auto' | 'keychain' | 'file', scrubber: Scrubber) {
  const cmd = plan.argv[0]!;
  // Checked before any secret is read, so a typo costs no backend call.
  if (!findExecutable(cmd, deps.env.PATH, deps.cwd)) {
    throw new OutloopError('command_not_found', Exit.commandNotFound, `${cmd} not found on PATH`, { next: `Check the command after --, or install ${cmd}.` });
  }
  const secrets = await readSecrets(plan.secretRefs, plan.tenant, deps.backends(storeKey));
  const redactor = new Redactor(secrets);
  scrubber.scrub = (text) => redactor.redactString(text);
  const fpKey = installKey(deps.homes.stateDir);
  scrubber.secrets = secrets.map((s) => ({ name: s.name, ref: s.ref, fingerprint: fingerprint(fpKey, s.value) }));
  const { env, stripped } = runEnv(
    deps.env,
    Object.fromEntries(secrets.map((s) => [s.name, s.value])),
    Object.fromEntries(envFile.plain.map((p) => [p.name, p.value])),
  );

  const out = deps.output;
  const stdout = new RedactingSink(redactor.stream(), out === 'collect' ? 'collect' : out.stdout);
  const spec = { argv: plan.argv, env, cwd: deps.cwd, timeoutMs: Infinity, inheritStdin: true, dieWithParent: true };
  if (pty) {
    // One merged stream, as a terminal has: one redactor over it, so a value split across what would
    // have been stdout and stderr is still one match.
    const { runPty } = await import('../runner/pty.js');
    const res = await runPty({ ...spec, argv: wrappedArgv(spec), forward: FORWARDED, readerGoneEvent: READER_GONE, watch: armGroupWatchdog }, stdout);
    await endSink(stdout);
    return { exitCode: res.exitCode, redactions: stdout.count, stdout: stdout.text(), stderr: '', stripped };
  }
  const stderr = new RedactingSink(redactor.stream(), out === 'collect' ? 'collect' : out.stderr);
  const res = await runChild({ ...spec, stdin: undefined, forward: [...FORWARDED, 'SIGWINCH'] }, { stdout, stderr });
  await Promise.all([endSink(stdout), endSink(stderr)]);
  return { exitCode: res.exitCode, redactions: stdout.count + stderr.count, stdout: stdout.text(), stderr: stderr.text(), stripped };
}
