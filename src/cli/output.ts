import { OutloopError, asOutloopError } from '../errors.js';

/**
 * How outloop talks: one line per error with a machine code, then the next step, on stderr; or, with
 * --json, one JSON object on stdout that an agent can parse without reading prose.
 */
export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function errorEnvelope(err: OutloopError, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // An error may carry fields of its own for --json (RanUnrecordedError: ran, childExitCode, output).
  const own = (err as { envelope?: Record<string, unknown> }).envelope ?? {};
  return { ok: false, decision: 'error', code: err.code, reason: err.message, next: err.next ?? null, ...own, ...extra };
}

export function printError(raw: unknown, json: boolean): number {
  const err = asOutloopError(raw);
  if (json) {
    writeJson(errorEnvelope(err, auditIdOf(err)));
  } else {
    process.stderr.write(`outloop: ${err.message}${err.code === 'internal' ? '' : ` [${err.code}]`}\n`);
    if (err.next) process.stderr.write(`next: ${err.next}\n`);
    const problems = (err as { problems?: { file: string; line?: number; col?: number; message: string }[] }).problems;
    if (problems && problems.length > 1) {
      for (const p of problems.slice(1)) process.stderr.write(`  ${p.file}${p.line ? `:${p.line}:${p.col ?? 1}` : ''}: ${p.message}\n`);
    }
  }
  if (process.env.OUTLOOP_DEBUG === '1' && (err.code === 'internal' || err.cause)) {
    process.stderr.write(`${(err.cause as Error | undefined)?.stack ?? err.stack}\n`);
  }
  return err.exitCode;
}

function auditIdOf(err: OutloopError): Record<string, unknown> {
  const id = (err as { auditId?: string }).auditId;
  return id ? { auditId: id } : {};
}

/** Quote an argv element for display the way a POSIX shell would read it back. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}
