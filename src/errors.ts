/**
 * Typed errors and the one place that maps them to exit codes.
 *
 * Every error a user can cause is an OutloopError: a machine `code` an agent can branch on, a one-line
 * `message` a person can read, and `next`, the step that gets them unstuck. Messages are written by us,
 * never copied from a backend or a child, so no secret value can ride along in one.
 */

/** Exit codes of the public contract (sysexits.h where one fits). */
export const Exit = {
  ok: 0,
  usage: 64,
  badParam: 65,
  /** Data that is not what it must be: output breaking its contract, a recording failing its hash (EX_DATAERR). */
  dataError: 65,
  /** Something on record is gone: a recording the audit log links to (EX_NOINPUT). */
  noInput: 66,
  backendUnavailable: 69,
  internal: 70,
  approvalRequired: 75,
  denied: 77,
  config: 78,
  timeout: 124,
  /** The recipe's command is not installed (what shells use). */
  commandNotFound: 127,
  /** A reader closed outloop's output early: the child is ended with SIGPIPE, 128 + 13. */
  readerGone: 141,
} as const;
export type ExitCodeValue = (typeof Exit)[keyof typeof Exit];

export interface ErrorOptions {
  /** What the user or agent should do next, one sentence. */
  next?: string;
  cause?: unknown;
}

export class OutloopError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly next: string | undefined;
  constructor(code: string, exitCode: number, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.next = opts.next;
  }
}

/** Wrong flags, unknown command, malformed SERVICE.RECIPE. */
export class UsageError extends OutloopError {
  constructor(message: string, opts: ErrorOptions & { code?: string } = {}) {
    super(opts.code ?? 'usage', Exit.usage, message, opts);
  }
}

/** A parameter value that fails its declared type or rule. */
export class ParamError extends OutloopError {
  readonly param: string;
  constructor(param: string, message: string, opts: ErrorOptions = {}) {
    super('bad_param', Exit.badParam, message, opts);
    this.param = param;
  }
}

/** A secret backend that cannot answer (not installed, locked, item missing). */
export class BackendError extends OutloopError {
  readonly backend: string;
  constructor(backend: string, message: string, opts: ErrorOptions & { code?: string } = {}) {
    super(opts.code ?? 'backend_unavailable', Exit.backendUnavailable, message, opts);
    this.backend = backend;
  }
}

/** Something inside outloop failed; nothing the user typed was wrong. */
export class InternalError extends OutloopError {
  constructor(message: string, opts: ErrorOptions & { code?: string } = {}) {
    super(opts.code ?? 'internal', Exit.internal, message, opts);
  }
}

/** The audit log cannot be written: fail closed, nothing runs. */
export class AuditError extends OutloopError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('audit_unavailable', Exit.internal, message, {
      next: 'Fix the audit log location (permissions, disk space) and retry; outloop runs nothing it cannot record.',
      ...opts,
    });
  }
}

/** A location in a YAML file, 1-based, for file:line:column messages. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

export function formatPos(pos: SourcePos): string {
  if (pos.line === undefined) return pos.file;
  return `${pos.file}:${pos.line}${pos.col === undefined ? '' : `:${pos.col}`}`;
}

export interface ConfigProblem extends SourcePos {
  message: string;
  severity?: 'error' | 'warning';
}

/** config.yaml or a recipe file is invalid: nothing runs until it is fixed. */
export class ConfigError extends OutloopError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], opts: ErrorOptions = {}) {
    const first = problems[0];
    const head = first ? `${formatPos(first)}: ${first.message}` : 'invalid configuration';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super('invalid_config', Exit.config, head + more, {
      next: 'Fix the file, then run `outloop config check` to see every problem (config.yaml and recipes, file:line).',
      ...opts,
    });
    this.problems = problems;
  }
}

/** The child ran past its recipe's timeout and was killed. */
export class TimeoutError extends OutloopError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('timeout', Exit.timeout, message, opts);
  }
}

/** Turn anything thrown into an OutloopError; unknown errors become internal (70). */
export function asOutloopError(err: unknown): OutloopError {
  if (err instanceof OutloopError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(`internal error: ${message}`, {
    cause: err,
    next: 'Run again with OUTLOOP_DEBUG=1 for details and report it if it persists.',
  });
}

/**
 * A policy denial. Most deny codes exit 77; the ones that are really the caller's input or the
 * configuration use the exit code a tool would expect for those.
 */
const DENY_EXIT: Readonly<Record<string, number>> = {
  bad_param: Exit.badParam,
  unknown_service: Exit.usage,
  unknown_recipe: Exit.usage,
  secret_not_bound: Exit.config,
  // outloop run: a binding it will never inject, or one name bound twice, is fixed in the config.
  // (run_not_allowed, env_ref_not_granted and reveal_command are ordinary denials: 77.)
  unsafe_env_name: Exit.config,
  env_name_conflict: Exit.config,
  approval_required: Exit.approvalRequired,
  // `sandbox: required` and no sandbox on this machine: a policy refusal like any other.
  sandbox_unavailable: Exit.denied,
};

export function denyExitCode(code: string): number {
  return DENY_EXIT[code] ?? Exit.denied;
}

export class DeniedError extends OutloopError {
  constructor(code: string, reason: string, next: string) {
    super(code, denyExitCode(code), reason, { next });
  }
}
