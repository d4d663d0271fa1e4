import { fstatSync, read } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { denyExitCode, Exit } from '../errors.js';
import { decideRedact, type RedactDecision } from '../policy/redact.js';
import { redactTransform } from '../redact/transform.js';
import { loadRequestContext } from './context.js';
import { openAttempt, runAttempt, type BrokerDeps } from './exec.js';
import { BudgetStore } from './budgets.js';
import { armRedaction } from './redactor.js';
import { readSecrets, type ReadSecret } from './secrets.js';

/**
 * `outloop redact`: the broker pipeline (load -> decide (pure) -> audit start -> read values -> filter ->
 * audit end, through exec.ts's openAttempt/runAttempt) with stdin as the "child". The values are those of
 * the tenant's own grants (policy/redact.ts), plus the secret-shape rules, so a log from anywhere can be
 * cleaned before it is pasted into a chat or an issue.
 */
export interface RedactBrokerRequest {
  services: string[];
  assertedTenant?: string | undefined;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

export type RedactOutcome =
  | { kind: 'denied'; auditId: string; decision: Extract<RedactDecision, { allow: false }>; exitCode: number }
  | { kind: 'filtered'; auditId: string; redactions: number; exitCode: number };

export async function handleRedact(req: RedactBrokerRequest, deps: BrokerDeps): Promise<RedactOutcome> {
  const service = req.services.length ? req.services.join(',') : null;
  const { id, record, prepare } = openAttempt(deps, { mode: 'redact', service, recipe: null });
  const ctx = await prepare(() => loadRequestContext(deps));
  const decision = decideRedact(
    { services: req.services, assertedTenant: req.assertedTenant, cwd: ctx.cwd },
    { binding: ctx.binding, tenants: ctx.config.config.tenants, configFile: ctx.config.file },
  );
  const who = { project: ctx.binding?.project ?? null, tenant: ctx.binding?.tenant ?? null };
  if (!decision.allow) {
    const exitCode = denyExitCode(decision.code);
    await record({ ...who, phase: 'end', decision: 'deny', code: decision.code, reason: decision.reason, exitCode });
    return { kind: 'denied', auditId: id, decision, exitCode };
  }
  const { plan } = decision;
  const refs = Object.entries(plan.secretRefs).flatMap(([, names]) => Object.entries(names).map(([name, ref]) => ({ name, ref })));
  const rate = await countCall(deps.homes.stateDir, who.tenant);
  const result = await runAttempt(
    record,
    id,
    { ...who, secrets: refs, rate },
    () => ({}),
    async (scrubber) => {
      const secrets: ReadSecret[] = [];
      const backends = deps.backends(ctx.config.config.storeKey);
      // Grant by grant: two services may bind the same logical name to different references.
      for (const names of Object.values(plan.secretRefs)) secrets.push(...(await readSecrets(names, plan.tenant!, backends)));
      const redactor = await armRedaction(secrets, ctx.config.config.redact, scrubber, deps.homes.stateDir, 'all');
      let redactions = 0;
      const filter = redactTransform(redactor.stream(), { onCount: (n) => (redactions = n) });
      try {
        await pipeline(req.input, filter, req.output);
      } catch (err) {
        // The reader left (`outloop redact < log | head`): what it read was redacted; end as a pipeline would.
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
        return { exitCode: Exit.readerGone, redactions };
      }
      return { exitCode: 0, redactions };
    },
  );
  return { kind: 'filtered', auditId: id, redactions: result.redactions, exitCode: result.exitCode };
}

/** The window of the `rate` field: long enough to show a scripted burst, short enough to mean "now". */
const RATE_WINDOW_MS = 60_000;

/**
 * Count this call among the tenant's recent redact calls, in the budget counts (one shared file, read and
 * written under its lock). Whole-value masking leaves a guessing caller nothing to learn, but a burst of
 * calls is still the shape of an attempt, so every redact record says how many calls the tenant made
 * in the last minute, this one included: `rate: { calls, seconds }`.
 */
async function countCall(stateDir: string, tenant: string | null): Promise<{ calls: number; seconds: number }> {
  const now = Date.now();
  const key = `redact:${tenant ?? '-'}`;
  const calls = await new BudgetStore(stateDir).charge(now, (usage) => ({
    result: (usage[key] ?? []).filter((t) => t > now - RATE_WINDOW_MS).length + 1,
    charge: [{ key, limit: Number.MAX_SAFE_INTEGER, windowMs: RATE_WINDOW_MS, label: 'outloop redact calls' }],
  }));
  return { calls, seconds: RATE_WINDOW_MS / 1000 };
}

/** Bytes per read of a file on stdin: large enough that per-write costs vanish, small enough to stay in cache. */
const READ_AHEAD_BYTES = 1 << 20;

/**
 * stdin as a stream that reads ahead, when it is a regular file (`outloop redact < build.log`): the next
 * read is in flight while the redactor works on the last one, instead of starting after it, and in 1 MiB
 * pieces rather than 64 KiB. undefined for a pipe or a terminal, which keep process.stdin: a read of a
 * pipe can wait for ever, and a pending one would keep the process alive after the reader went away.
 */
export function fileStdin(fd = 0): Readable | undefined {
  try {
    if (!fstatSync(fd).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const next = () =>
    new Promise<Buffer>((resolve, reject) => {
      const buf = Buffer.allocUnsafe(READ_AHEAD_BYTES);
      // position null: read from the current offset, so `outloop redact < file` after a partial read works.
      read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n))));
    });
  async function* chunks(): AsyncGenerator<Buffer> {
    let pending = next();
    for (;;) {
      const got = await pending;
      if (got.length === 0) return;
      pending = next();
      // Left pending when the pipeline stops early: its failure then has no one to go to.
      pending.catch(() => undefined);
      yield got;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
