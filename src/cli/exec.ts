import { AttemptError, handleRequest, type BrokerOutcome } from '../broker/exec.js';
import type { Gate, Plan } from '../policy/decide.js';
import { describeContract, type OutputContract } from '../output/contract.js';
import type { RenderedCommand } from '../recipe/render.js';
import { cliDeps } from './deps.js';
import { FdWriter } from './fd-writer.js';
import { sleep } from '../util/sleep.js';
import { ApprovalStore } from '../broker/approvals.js';
import { DeniedError, UsageError } from '../errors.js';
import type { CliOptions } from './main.js';
import { printError, shellQuote, writeJson } from './output.js';
import { parseTarget } from './params.js';
import { assertedTenant, type RequestFlags } from './options.js';


export async function execCommand(target: string, o: RequestFlags, opts: CliOptions): Promise<number> {
  const { service, recipe } = parseTarget(target);
  const json = Boolean(o.json);
  // A flag is never silently ignored: a dry run never waits for a person.
  if (o.dryRun && o.wait) return printError(new UsageError('--wait and --dry-run do not go together: a dry run asks no one and runs nothing'), json);
  // The descriptors themselves: process.stdout and process.stderr are streams made at first use (fd-writer.ts).
  const deps = cliDeps(opts, json ? 'collect' : { stdout: new FdWriter(1, () => process.stdout), stderr: new FdWriter(2, () => process.stderr) });
  let outcome: BrokerOutcome;
  const request = { service, recipe, params: o.param, assertedTenant: assertedTenant(o.tenant), mode: 'exec' as const, dryRun: Boolean(o.dryRun), record: Boolean(o.record) };
  try {
    outcome = await handleRequest(request, deps);
    if (o.wait && !o.dryRun && outcome.kind === 'denied' && outcome.approvalId) {
      if (!json) printApprovalRequired(outcome, true);
      const answer = await waitForAnswer(new ApprovalStore(deps.homes.stateDir), outcome.approvalId);
      if (answer === 'expired') {
        const e = new DeniedError('approval_expired', `approval ${outcome.approvalId} expired before a person answered; nothing was run`,
          'Run the command again to ask for a new approval.');
        if (!json) return printError(e, false);
        writeJson({ ok: false, decision: 'deny', code: e.code, approvalId: outcome.approvalId, reason: e.message, next: e.next, auditId: outcome.auditId });
        return e.exitCode;
      }
      // Approved or denied: decide again, which runs it (using the approval once) or records the denial.
      outcome = await handleRequest(request, deps);
    }
  } catch (err) {
    return printAttemptError(err, json);
  }
  switch (outcome.kind) {
    case 'denied': {
      const d = outcome.decision;
      if (d.code === 'approval_required') {
        if (json) writeJson({ ok: false, decision: 'approval_required', code: d.code, approvalId: outcome.approvalId ?? null, reason: d.reason, next: d.next, auditId: outcome.auditId });
        else printApprovalRequired(outcome, false);
        return outcome.exitCode;
      }
      if (json) writeJson({ ok: false, decision: 'deny', code: d.code, reason: d.reason, next: d.next, ...(d.param ? { param: d.param } : {}), auditId: outcome.auditId });
      else process.stderr.write(`outloop: denied: ${d.reason} [${d.code}]\nnext: ${d.next}\n`);
      return outcome.exitCode;
    }
    case 'dry-run': {
      const cmd = outcome.plan.preview;
      if (json) writeJson({ ok: true, decision: 'allow', dryRun: true, tenant: outcome.plan.tenant, command: cmd, ...planOutput(outcome.plan, o.record), auditId: outcome.auditId });
      else process.stdout.write(describeCommand(cmd, `dry run: ${target} for tenant ${outcome.plan.tenant} would run (nothing was read or run):`, outcome.plan, o.record));
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
          ...(outcome.truncated ? { truncated: true } : {}),
          ...(outcome.network ? { network: outcome.network } : {}),
        });
      } else if (outcome.timedOut) {
        process.stderr.write(`outloop: ${target} timed out after ${outcome.plan.recipe.timeoutMs} ms and was stopped [timeout]\nnext: Retry, or ask for a longer timeout in the recipe.\n`);
      }
      // The child saw only a bare 403/502 from the proxy: when it failed, say why (the JSON always has it).
      if (!json && outcome.network && outcome.exitCode !== 0) process.stderr.write((await import('../sandbox/egress-notes.js')).formatNotes(outcome.network));
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
    outcome = await handleRequest({ service, recipe, params: o.param, assertedTenant: assertedTenant(o.tenant), mode: 'check' }, cliDeps(opts, 'collect'));
  } catch (err) {
    return printAttemptError(err, json);
  }
  if (outcome.kind !== 'checked') throw new Error('check produced no decision');
  const d = outcome.decision;
  if (json) {
    writeJson({
      ok: d.allow,
      decision: d.allow ? 'allow' : 'deny',
      ...(d.allow ? { tenant: d.plan.tenant, command: d.plan.preview, ...planOutput(d.plan) } : { code: d.code, reason: d.reason, next: d.next }),
      gates: d.gates,
      auditId: outcome.auditId,
    });
    return outcome.exitCode;
  }
  const lines = [`check ${target}`, ...d.gates.map(formatGate)];
  if (d.allow) lines.push('', describeCommand(d.plan.preview, `allowed: tenant ${d.plan.tenant} would run:`, d.plan).trimEnd());
  else lines.push('', `denied: ${d.reason} [${d.code}]`, `next: ${d.next}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return outcome.exitCode;
}

/** What waits for a person: the id, exactly what would run (never a secret), and the next step. */
function printApprovalRequired(outcome: Extract<BrokerOutcome, { kind: 'denied' }>, waiting: boolean): void {
  const d = outcome.decision;
  const a = d.approval;
  const lines = [`outloop: approval required: ${d.reason} [approval_required]`];
  if (outcome.approvalId) lines.push(`approval: ${outcome.approvalId}`);
  if (a) {
    lines.push(`  tenant:  ${a.tenant}`, `  recipe:  ${a.service}.${a.recipe} (${a.risk})`);
    lines.push(`  params:  ${Object.entries(a.params).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`);
  }
  lines.push(`next: ${d.next}`);
  if (waiting) lines.push('waiting for a person to approve or deny it...');
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Poll the record every 500 ms until a person answers or it expires (the TTL bounds the wait). */
async function waitForAnswer(store: ApprovalStore, id: string): Promise<'approved' | 'denied' | 'expired'> {
  for (;;) {
    const rec = store.get(id);
    if (!rec) return 'expired';
    if (rec.status === 'approved' || rec.status === 'used') return 'approved';
    if (rec.status === 'denied') return 'denied';
    if (Date.now() > rec.expiresAt) return 'expired';
    await sleep(500);
  }
}


function formatGate(g: Gate): string {
  return `  ${g.status.padEnd(4)}  ${g.name.padEnd(9)}  ${g.detail}`;
}

/** The effective output contract and recording, as check and --dry-run report them. */
function planOutput(plan: Plan, recordFlag?: boolean): { output?: OutputContract; record: boolean; placeholders?: string[] } {
  return { ...(plan.output ? { output: plan.output } : {}), record: Boolean(plan.record || recordFlag), ...(plan.placeholders ? { placeholders: plan.placeholders } : {}) };
}

function describeCommand(cmd: RenderedCommand, title: string, plan?: Plan, recordFlag?: boolean): string {
  const lines = [title, `  ${cmd.argv.map(shellQuote).join(' ')}`];
  if (plan?.output) lines.push(`  output: ${describeContract(plan.output)}`);
  if (plan?.record || recordFlag) lines.push('  record: yes (asciicast of the redacted output)');
  if (plan?.placeholders) lines.push(`  placeholders: ${plan.placeholders.join(', ')} (the child gets per-run stand-ins; the proxy puts the values in only for ${plan.recipe.hosts.join(', ') || 'no host'})`);
  for (const [k, v] of Object.entries(cmd.env)) lines.push(`  env ${k}=${v}`);
  if (cmd.stdin !== undefined) lines.push('  stdin:', ...cmd.stdin.replace(/\n$/, '').split('\n').map((l) => `    ${l}`));
  for (const [k, v] of Object.entries(cmd.files)) lines.push(`  file ${k}:`, ...v.replace(/\n$/, '').split('\n').map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

export function printAttemptError(err: unknown, json: boolean): number {
  if (err instanceof AttemptError) {
    const e = Object.assign(err.inner, { auditId: err.auditId });
    return printError(e, json);
  }
  return printError(err, json);
}
