import { createInterface } from 'node:readline';
import { newAuditId } from '../audit/index.js';
import { openAuditLog } from '../audit/install.js';
import { ApprovalStore, type ApprovalRecord } from '../broker/approvals.js';
import { Exit, UsageError } from '../errors.js';
import { resolveHomes } from '../paths.js';
import { writeJson } from './output.js';

/**
 * `outloop approvals`, `outloop approve ID`, `outloop deny ID`: a person's side of approvals. Approving and
 * denying need an interactive terminal and a typed `yes`, so an agent with a shell cannot approve its own
 * request by piping an answer. The answer (and --reason) goes to the audit log, mode `approve`.
 */
export async function listCommand(o: { json?: boolean }): Promise<number> {
  const store = new ApprovalStore(resolveHomes(process.env).stateDir);
  const now = Date.now();
  const pending = store.list().filter((r) => r.status === 'pending' && now <= r.expiresAt);
  if (o.json) {
    writeJson(pending.map((r) => ({ id: r.id, tenant: r.tenant, service: r.service, recipe: r.recipe, risk: r.risk, params: r.params, createdAt: new Date(r.createdAt).toISOString(), expiresAt: new Date(r.expiresAt).toISOString() })));
    return 0;
  }
  if (!pending.length) {
    process.stdout.write('no approvals are waiting\n');
    return 0;
  }
  for (const r of pending) process.stdout.write(`${r.id}  ${r.tenant}  ${r.service}.${r.recipe} (${r.risk})  ${formatParams(r)}  expires ${new Date(r.expiresAt).toISOString()}\n`);
  return 0;
}

export async function answerCommand(verb: 'approve' | 'deny', id: string, o: { reason?: string }): Promise<number> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`outloop ${verb} needs an interactive terminal: stdin is not a TTY, nothing changed`, {
      code: 'not_a_tty',
      next: `A person runs \`outloop ${verb} ${id}\` in their own terminal; an agent cannot answer its own request.`,
    });
  }
  const homes = resolveHomes(process.env);
  const store = new ApprovalStore(homes.stateDir);
  const rec = store.get(id);
  const now = Date.now();
  if (!rec) throw new UsageError(`no approval ${id}`, { code: 'unknown_approval', next: 'Run `outloop approvals` to list the ones waiting.' });
  if (rec.status !== 'pending' || now > rec.expiresAt) {
    throw new UsageError(`approval ${id} is not waiting (${now > rec.expiresAt && rec.status === 'pending' ? 'expired' : rec.status}); nothing changed`, {
      code: 'approval_not_pending',
      next: 'The agent re-runs its command to ask again.',
    });
  }
  const reason = o.reason?.trim() || undefined;
  if (rec.reasonRequired && reason === undefined) {
    throw new UsageError(`tenant "${rec.tenant}"'s grant for ${rec.service} requires a reason: nothing changed`, {
      code: 'reason_required',
      next: `Run \`outloop ${verb} ${id} --reason "..."\`.`,
    });
  }
  process.stdout.write(
    [
      `approval ${rec.id}`,
      `  tenant:   ${rec.tenant}`,
      `  recipe:   ${rec.service}.${rec.recipe} (risk ${rec.risk})`,
      `  params:   ${formatParams(rec)}`,
      `  expires:  ${new Date(rec.expiresAt).toISOString()}`,
      ...(reason ? [`  reason:   ${reason}`] : []),
      '',
    ].join('\n'),
  );
  const typed = await askLine(`Type yes to ${verb}: `);
  if (typed.trim() !== 'yes') {
    process.stdout.write('not confirmed: nothing changed\n');
    return 1;
  }
  const status = verb === 'approve' ? 'approved' : 'denied';
  let done: ApprovalRecord;
  try {
    done = await store.decide(id, status, Date.now(), reason);
  } catch {
    throw new UsageError(`approval ${id} is no longer waiting; nothing changed`, { code: 'approval_not_pending' });
  }
  await openAuditLog(homes).append({
    id: newAuditId(),
    phase: 'end',
    mode: 'approve',
    project: null,
    tenant: done.tenant,
    service: done.service,
    recipe: done.recipe,
    decision: verb === 'approve' ? 'allow' : 'deny',
    code: verb === 'approve' ? 'approved' : 'approval_denied',
    ...(reason ? { reason } : {}),
    approvalId: done.id,
    params: done.params,
    recipeSha256: done.recipeSha256,
    exitCode: 0,
    durationMs: null,
    redactions: 0,
  });
  process.stdout.write(
    verb === 'approve'
      ? `approved ${id}: the identical command may run once, until ${new Date(done.expiresAt).toISOString()}\n`
      : `denied ${id}: the agent gets approval_denied (exit ${Exit.denied})\n`,
  );
  return 0;
}

function formatParams(r: ApprovalRecord): string {
  return Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
}

function askLine(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    let answered = false;
    rl.question(question, (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.on('close', () => {
      if (!answered) resolve('');
    });
  });
}
