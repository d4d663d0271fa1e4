import { pipeline } from 'node:stream/promises';
import { denyExitCode, Exit } from '../errors.js';
import { decideRedact, type RedactDecision } from '../policy/redact.js';
import { redactTransform } from '../redact/index.js';
import { loadRequestContext } from './context.js';
import { openAttempt, runAttempt, type BrokerDeps } from './exec.js';
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
  const result = await runAttempt(
    record,
    id,
    { ...who, secrets: refs },
    () => ({}),
    async (scrubber) => {
      const secrets: ReadSecret[] = [];
      const backends = deps.backends(ctx.config.config.storeKey);
      // Grant by grant: two services may bind the same logical name to different references.
      for (const names of Object.values(plan.secretRefs)) secrets.push(...(await readSecrets(names, plan.tenant!, backends)));
      const redactor = await armRedaction(secrets, ctx.config.config.redact, scrubber, deps.homes.stateDir);
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
