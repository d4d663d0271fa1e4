/**
 * Secret backends that read through a vendor's own CLI (op, doppler, infisical). The CLI owns sign-in,
 * tokens, caching and the desktop-app handshake; outloop only runs it once per read and takes stdout.
 *
 * Rules that hold for every vendor:
 * - argv is a list and no shell runs, so a vault or item name with spaces, quotes or `;` stays one argument.
 * - The broker's environment goes through untouched: the CLIs authenticate from it (OP_SERVICE_ACCOUNT_TOKEN,
 *   DOPPLER_TOKEN, INFISICAL_TOKEN) and from config under HOME.
 * - stderr is read only to pick which error to raise. It is never put in a message: the vendor may echo a
 *   token or, if it is buggy, the value, and messages end up in agent transcripts and the audit log.
 * - stdout is the value only when the CLI exited 0. A CLI that printed something and then failed has given
 *   us nothing we can trust.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BackendError, InternalError, UsageError } from '../errors.js';
import type { BackendContext, SecretBackend, SecretRef } from './backend.js';

/** Long enough for a desktop-app unlock prompt or a slow network; short of the broker's own 30 s guard. */
export const DEFAULT_CLI_TIMEOUT_MS = 15_000;
// A credential is bytes to kilobytes; megabytes on stdout means the CLI is printing something else.
const MAX_STDOUT_BYTES = 1 << 20;
// Enough to hold every error line a CLI prints; classification needs the words, not a whole log.
const MAX_STDERR_CHARS = 64 << 10;

export interface CliBackendOptions {
  /** Kill the CLI and fail with backend_timeout after this long. */
  timeoutMs?: number;
}

/** The failures a vendor's stderr is sorted into. Anything else is a generic backend_unavailable. */
export type CliFailure = 'auth' | 'scope' | 'not_found';

export interface ErrorText {
  message: string;
  next: string;
}

/** What one vendor CLI needs to be driven and explained. */
export interface VendorCli {
  /** Backend name as in references: op, doppler, infisical. */
  readonly backend: string;
  /** Executable looked up on the broker's PATH. */
  readonly command: string;
  /** How a person would name it, for messages: "the 1Password CLI (op)". */
  readonly product: string;
  /** Where to get it, for backend_not_installed. */
  readonly install: string;
  /** The step that signs in, for backend_auth: "run: op signin, or set OP_SERVICE_ACCOUNT_TOKEN". */
  readonly signIn: string;
  /** The CLI ends the value with one newline of its own that is not part of the secret. */
  readonly addsNewline: boolean;
  /** Set only when the broker's environment does not already set them. */
  readonly envDefaults?: Readonly<Record<string, string>>;
  /** Validate the reference and build argv (without the command). Throws UsageError on a bad shape. */
  argv(ref: SecretRef): string[];
  /**
   * How to sort a failed run by its stderr: lower-cased substrings per failure, tried in this order
   * (the first kind with a match wins). stderr is only matched, never copied anywhere.
   */
  readonly failures: ReadonlyArray<readonly [CliFailure, readonly string[]]>;
  /** Messages for the failures that depend on the reference's parts. */
  notFound(ref: SecretRef): ErrorText;
  scope(ref: SecretRef): ErrorText;
  /** What to try when the CLI timed out (locked app, unanswered prompt, network). */
  timeoutNext: string;
}

function classify(stderr: string, failures: VendorCli['failures']): CliFailure | undefined {
  const s = stderr.toLowerCase();
  return failures.find(([, patterns]) => patterns.some((p) => s.includes(p)))?.[0];
}

export class CliSecretBackend implements SecretBackend {
  readonly name: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly cli: VendorCli,
    private readonly ctx: BackendContext,
    options: CliBackendOptions = {},
  ) {
    this.name = cli.backend;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  }

  async read(ref: SecretRef): Promise<string> {
    const cli = this.cli;
    if (ref.backend !== cli.backend) throw new InternalError(`${cli.backend} backend asked for a ${ref.backend}: reference`);
    const args = cli.argv(ref);
    const env = { ...this.ctx.env };
    for (const [k, v] of Object.entries(cli.envDefaults ?? {})) if (env[k] === undefined) env[k] = v;

    const outcome = await runCli(cli.command, args, env, this.timeoutMs);
    const fail = (code: string, message: string, next: string) => new BackendError(cli.backend, message, { code, next });

    switch (outcome.kind) {
      case 'missing':
        throw fail(
          'backend_not_installed',
          `${cli.product} is not installed (no "${cli.command}" on PATH); it is needed to read ${ref.raw}`,
          `Install it: ${cli.install}; then ${cli.signIn}.`,
        );
      case 'timeout':
        throw fail(
          'backend_timeout',
          `${cli.command} did not answer within ${seconds(this.timeoutMs)} while reading ${ref.raw}; it was stopped`,
          cli.timeoutNext,
        );
      case 'spawn_error':
        throw fail(
          'backend_unavailable',
          `${cli.product} could not be started (${outcome.code}) to read ${ref.raw}`,
          `Check that "${cli.command}" on PATH is an executable you can run.`,
        );
      case 'too_large':
        throw fail(
          'backend_unavailable',
          `${cli.command} printed more than ${MAX_STDOUT_BYTES} bytes for ${ref.raw}, which is not a single secret value`,
          `Check that ${ref.raw} names one field or secret.`,
        );
      case 'exited':
        break;
    }

    if (outcome.code === 0 && outcome.signal === null) {
      const value = outcome.stdout;
      const trimmed = cli.addsNewline && value.endsWith('\n') ? value.slice(0, -1) : value;
      if (trimmed.length === 0) {
        const nf = cli.notFound(ref);
        throw fail('secret_not_found', `${nf.message} (${cli.command} returned no value: the secret is missing or empty)`, nf.next);
      }
      return trimmed;
    }

    switch (classify(outcome.stderr, cli.failures)) {
      case 'auth':
        throw fail('backend_auth', `${cli.command} is not signed in or its token was refused, so ${ref.raw} could not be read`, cli.signIn);
      case 'not_found': {
        const t = cli.notFound(ref);
        throw fail('secret_not_found', t.message, t.next);
      }
      case 'scope': {
        const t = cli.scope(ref);
        throw fail('backend_scope', t.message, t.next);
      }
      default: {
        const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with status ${outcome.code}`;
        throw fail(
          'backend_unavailable',
          `${cli.command} ${how} while reading ${ref.raw}`,
          // Its own words are left out on purpose (they may carry secret material); the person can see them.
          `Run it yourself to see ${cli.command}'s message: ${[cli.command, ...args].map(shellQuote).join(' ')} >/dev/null`,
        );
      }
    }
  }
}

type CliOutcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: 'missing' }
  | { kind: 'timeout' }
  | { kind: 'too_large' }
  | { kind: 'spawn_error'; code: string };

/** Run one CLI to completion, or kill it at the deadline. Exported for tests of the runner itself. */
export function runCli(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        env,
        shell: false,
        // No stdin and its own session: an op or infisical that decides to prompt gets EOF and fails
        // fast instead of waiting on a terminal that belongs to the agent.
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } catch (err) {
      resolve({ kind: 'spawn_error', code: errnoOf(err) });
      return;
    }

    let settled = false;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';

    const killAll = () => {
      // The whole group: op and infisical may start helpers that would otherwise outlive the deadline.
      if (child.pid !== undefined && process.platform !== 'win32') {
        try {
          process.kill(-child.pid, 'SIGKILL');
          return;
        } catch {
          /* group already gone; fall through to the child itself */
        }
      }
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const wipe = () => {
      // Drop our copies of whatever was read; the returned string is the only one that should live on.
      for (const c of chunks) c.fill(0);
      chunks.length = 0;
    };
    const finish = (o: CliOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };

    const timer = setTimeout(() => {
      killAll();
      // Do not wait for the pipes: a grandchild holding them open must not stretch the deadline.
      child.stdout?.destroy();
      child.stderr?.destroy();
      wipe();
      finish({ kind: 'timeout' });
    }, timeoutMs);

    child.stdout?.on('data', (c: Buffer) => {
      if (settled) return;
      bytes += c.length;
      if (bytes > MAX_STDOUT_BYTES) {
        killAll();
        c.fill(0);
        wipe();
        finish({ kind: 'too_large' });
        return;
      }
      chunks.push(c);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += s.slice(0, MAX_STDERR_CHARS - stderr.length);
    });
    // Readable streams that error (EPIPE and the like) must not crash the broker; close still follows.
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});

    child.once('error', (err: NodeJS.ErrnoException) => {
      wipe();
      finish(err.code === 'ENOENT' ? { kind: 'missing' } : { kind: 'spawn_error', code: err.code ?? 'unknown error' });
    });
    // Once the CLI itself has exited, anything it left in its group would only hold our pipes open.
    child.once('exit', () => {
      if (child.pid !== undefined && process.platform !== 'win32') {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* nothing left */
        }
      }
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      const stdout = Buffer.concat(chunks);
      const text = stdout.toString('utf8');
      stdout.fill(0);
      wipe();
      finish({ kind: 'exited', code, signal, stdout: text, stderr });
    });
  });
}

/**
 * Split a reference path into parts for a CLI's flags. Each part becomes its own argument, so the only
 * way one could change the command's meaning is to look like a flag: a leading "-" is refused, as are
 * empty parts and control characters. The message gives the expected shape but never repeats the text,
 * in case a value was pasted where the reference belongs.
 */
export function refParts(ref: SecretRef, shape: string, count: { min: number; max: number }): string[] {
  const parts = ref.path.split('/');
  const bad = (why: string) =>
    new UsageError(`a ${ref.backend} reference must look like ${shape} (this one ${why})`, {
      code: 'bad_ref',
      next: `Fix the reference in config.yaml to the form ${shape}.`,
    });
  if (parts.length < count.min || parts.length > count.max) throw bad(`has ${parts.length} part${parts.length === 1 ? '' : 's'}`);
  if (parts.some((p) => p.length === 0)) throw bad('has an empty part');
  if (parts.some((p) => p.startsWith('-'))) throw bad('has a part starting with "-", which the CLI would read as a flag');
  if (parts.some((p) => /[\u0000-\u001f\u007f]/.test(p))) throw bad('contains a control character');
  return parts;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}

/** For the "run it yourself" hint only; nothing here is ever executed. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
