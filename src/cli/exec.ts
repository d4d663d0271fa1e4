import { AttemptError, handleRequest, type BrokerOutcome } from '../broker/exec.js';
import type { Gate } from '../policy/decide.js';
import type { RenderedCommand } from '../recipe/render.js';
import { cliDeps } from './deps.js';
import type { CliOptions } from './main.js';
import { printError, shellQuote, writeJson } from './output.js';
import { parseTarget } from './params.js';
import type { RequestFlags } from './options.js';


export async function execCommand(target: string, o: RequestFlags, opts: CliOptions): Promise<number> {
  const { service, recipe } = parseTarget(target);
  const json = Boolean(o.json);
  const deps = cliDeps(opts, json ? 'collect' : { stdout: process.stdout, stderr: process.stderr });
  let outcome: BrokerOutcome;
  try {
    outcome = await handleRequest(
      { service, recipe, params: o.param, assertedTenant: asserted(o.tenant), mode: 'exec', dryRun: Boolean(o.dryRun) },
      deps,
    );
  } catch (err) {
    return printAttemptError(err, json);
  }
  switch (outcome.kind) {
    case 'denied': {
      const d = outcome.decision;
      if (json) writeJson({ ok: false, decision: 'deny', code: d.code, reason: d.reason, next: d.next, ...(d.param ? { param: d.param } : {}), auditId: outcome.auditId });
      else process.stderr.write(`outloop: denied: ${d.reason} [${d.code}]\nnext: ${d.next}\n`);
      return outcome.exitCode;
    }
    case 'dry-run': {
      const cmd = outcome.plan.preview;
      if (json) writeJson({ ok: true, decision: 'allow', dryRun: true, tenant: outcome.plan.tenant, command: cmd, auditId: outcome.auditId });
      else process.stdout.write(describeCommand(cmd, `dry run: ${target} for tenant ${outcome.plan.tenant} would run (nothing was read or run):`));
      return 0;
    }
    case 'ran': {
      if (json) {
        writeJson({
          ok: outcome.exitCode === 0,
          decision: 'allow',
          exitCode: outcome.exitCode,
          stdout: outcome.stdout,
          stderr: outcome.stderr,
          redactions: outcome.redactions,
          auditId: outcome.auditId,
          ...(outcome.timedOut ? { code: 'timeout', reason: `timed out after ${outcome.plan.recipe.timeoutMs} ms` } : {}),
        });
      } else if (outcome.timedOut) {
        process.stderr.write(`outloop: ${target} timed out after ${outcome.plan.recipe.timeoutMs} ms and was stopped [timeout]\nnext: Retry, or ask for a longer timeout in the recipe.\n`);
      }
      return outcome.exitCode;
    }
    case 'checked':
      return outcome.exitCode;
  }
}

export async function checkCommand(target: string, o: RequestFlags, opts: CliOptions): Promise<number> {
  const { service, recipe } = parseTarget(target);
  const json = Boolean(o.json);
  let outcome: BrokerOutcome;
  try {
    outcome = await handleRequest({ service, recipe, params: o.param, assertedTenant: asserted(o.tenant), mode: 'check' }, cliDeps(opts, 'collect'));
  } catch (err) {
    return printAttemptError(err, json);
  }
  if (outcome.kind !== 'checked') throw new Error('check produced no decision');
  const d = outcome.decision;
  if (json) {
    writeJson({
      ok: d.allow,
      decision: d.allow ? 'allow' : 'deny',
      ...(d.allow ? { tenant: d.plan.tenant, command: d.plan.preview } : { code: d.code, reason: d.reason, next: d.next }),
      gates: d.gates,
      auditId: outcome.auditId,
    });
    return outcome.exitCode;
  }
  const lines = [`check ${target}`, ...d.gates.map(formatGate)];
  if (d.allow) lines.push('', describeCommand(d.plan.preview, `allowed: tenant ${d.plan.tenant} would run:`).trimEnd());
  else lines.push('', `denied: ${d.reason} [${d.code}]`, `next: ${d.next}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return outcome.exitCode;
}

/** An empty --tenant or OUTLOOP_TENANT= asserts nothing, as an empty variable does for most tools. */
function asserted(tenant: string | undefined): string | undefined {
  return tenant === undefined || tenant === '' ? undefined : tenant;
}

function formatGate(g: Gate): string {
  return `  ${g.status.padEnd(4)}  ${g.name.padEnd(9)}  ${g.detail}`;
}

function describeCommand(cmd: RenderedCommand, title: string): string {
  const lines = [title, `  ${cmd.argv.map(shellQuote).join(' ')}`];
  for (const [k, v] of Object.entries(cmd.env)) lines.push(`  env ${k}=${v}`);
  if (cmd.stdin !== undefined) lines.push('  stdin:', ...cmd.stdin.replace(/\n$/, '').split('\n').map((l) => `    ${l}`));
  for (const [k, v] of Object.entries(cmd.files)) lines.push(`  file ${k}:`, ...v.replace(/\n$/, '').split('\n').map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

function printAttemptError(err: unknown, json: boolean): number {
  if (err instanceof AttemptError) {
    const e = Object.assign(err.inner, { auditId: err.auditId });
    return printError(e, json);
  }
  return printError(err, json);
}
