import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, makeE2E, probeLines, until, type E2E } from './helpers.js';

// Approvals end to end: a grant's `approve` makes exec exit 75 with an id; a person approves or denies in a
// real terminal (`script` gives the CLI a pseudo-terminal; keystrokes arrive after a pause); the identical
// command then runs once.
let e: E2E;
let ranLog: string;

const recipe = (service: string) =>
  `service: ${service}\nsecrets: [T]\nrecipes:\n  refund:\n    description: refund\n    risk: write\n    params:\n      amount: { type: integer }\n    run: [sh, -c, 'echo "${service} {{params.amount}} $T" >> "${ranLog}"']\n    env: { T: "{{secrets.T}}" }\n    sandbox: { paths: [{ path: ${JSON.stringify(dirname(ranLog))}, mode: rw }] }\n`;

beforeAll(async () => {
  e = makeE2E(['acme']);
  ranLog = join(e.root, 'ran.log');
  for (const s of ['pay', 'fast', 'strict']) e.writeRecipe(s, recipe(s));
  e.writeConfig(
    configYaml(e, {
      acme: [
        'pay:\n  secrets: { T: "local:acme/t" }\n  allow: ["*"]\n  approve: [refund]',
        'fast:\n  secrets: { T: "local:acme/t" }\n  allow: ["*"]\n  approve: { risk: write }\n  approvalTtl: 1s',
        'strict:\n  secrets: { T: "local:acme/t" }\n  allow: ["*"]\n  approve: [refund]\n  approvalReason: required',
      ].join('\n'),
    }),
  );
  await e.setSecret('local:acme/t', 'tok-approvals-123');
});
afterAll(() => e?.cleanup());

function typeInto(args: string, keys: string) {
  const cmd = `(sleep 1.5; printf '${keys}') | script -qec ${JSON.stringify(`node ${BIN} ${args}`)} /dev/null`;
  return spawnSync('sh', ['-c', cmd], { cwd: e.projects.acme, env: e.env, encoding: 'utf8', timeout: 30_000 });
}
const runs = () => (existsSync(ranLog) ? readFileSync(ranLog, 'utf8').split('\n').filter(Boolean) : []);
async function pending(): Promise<{ id: string; service: string; params: Record<string, string> }[]> {
  const r = await e.cli(['approvals', '--json']);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}
async function ask(service: string, amount: string) {
  const r = await e.cli(['exec', `${service}.refund`, '-p', `amount=${amount}`, '--json']);
  return { status: r.status, env: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('approval required', () => {
  it('exits 75 with the envelope, reads no secret, runs nothing; the same request reuses its pending id', async () => {
    const probe = join(e.root, 'probe.log');
    const r = await e.cli(['exec', 'pay.refund', '-p', 'amount=5', '--json'], { probe });
    expect(r.status).toBe(75);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ ok: false, decision: 'approval_required', code: 'approval_required' });
    expect(env.approvalId).toMatch(/^ap_[0-9a-f]+$/);
    expect(env.next).toContain(`outloop approve ${env.approvalId}`);
    expect(env.reason).toContain('amount=5');
    expect(typeof env.auditId).toBe('string');
    expect(probeLines(probe)).toEqual([]);
    expect(runs()).toEqual([]);
    const last = e.audit().at(-1)!;
    expect(last).toMatchObject({ decision: 'approval_required', code: 'approval_required', approvalId: env.approvalId, exitCode: 75 });
    expect(JSON.stringify(e.audit())).not.toContain('tok-approvals-123');

    expect((await ask('pay', '5')).env.approvalId).toBe(env.approvalId);
    expect((await pending()).map((p) => p.id)).toEqual([env.approvalId]);

    // Human output: the id, what would run, the next step.
    const h = await e.cli(['exec', 'pay.refund', '-p', 'amount=5']);
    expect(h.status).toBe(75);
    expect(h.stderr).toContain(`approval: ${env.approvalId}`);
    expect(h.stderr).toContain(`next: Ask a person to run: outloop approve ${env.approvalId}; then re-run this exact command`);

    // check shows the gate and creates nothing; a dry run creates nothing.
    const c = await e.cli(['check', 'pay.refund', '-p', 'amount=99', '--json']);
    expect(c.status).toBe(77);
    expect(JSON.parse(c.stdout).gates.find((g: { name: string }) => g.name === 'approval')).toMatchObject({ status: 'fail' });
    const d = await e.cli(['exec', 'pay.refund', '-p', 'amount=98', '--dry-run', '--json']);
    expect(d.status).toBe(75);
    expect((await pending()).map((p) => p.params.amount)).toEqual(['5']);
  });

  it('recipes list --json says which recipes wait for a person', async () => {
    const r = await e.cli(['recipes', 'list', '--json']);
    const by = Object.fromEntries((JSON.parse(r.stdout).recipes as { name: string; approvalRequired: boolean }[]).map((x) => [x.name, x.approvalRequired]));
    expect(by['pay.refund']).toBe(true);
    expect(by['fast.refund']).toBe(true);
  });

  it('approve refuses without a terminal (exit 64) and changes nothing', async () => {
    const { env } = await ask('pay', '5');
    const r = await e.cli(['approve', String(env.approvalId)]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('not a TTY');
    expect((await pending()).map((p) => p.id)).toContain(env.approvalId);
  });

  it('anything but "yes" changes nothing; "yes" lets the identical command run exactly once', async () => {
    const { env } = await ask('pay', '5');
    const id = String(env.approvalId);
    const no = typeInto(`approve ${id}`, 'y\\r');
    expect(no.stdout).toContain('pay.refund');
    expect(no.stdout).toContain('amount=5');
    expect(no.stdout).toContain('nothing changed');
    expect((await ask('pay', '5')).status).toBe(75);

    const yes = typeInto(`approve ${id} --reason "customer call"`, 'yes\\r');
    expect(yes.status, yes.stdout).toBe(0);
    expect(yes.stdout).toContain('Type yes to approve');
    expect(yes.stdout).toContain(`approved ${id}`);
    expect(e.audit().at(-1)).toMatchObject({ mode: 'approve', decision: 'allow', code: 'approved', approvalId: id, reason: 'customer call' });

    // Other parameters are not covered.
    expect((await ask('pay', '6')).status).toBe(75);
    const ok = await ask('pay', '5');
    expect(ok.status).toBe(0);
    expect(ok.env.ok).toBe(true);
    expect(runs()).toEqual(['pay 5 tok-approvals-123']);
    const again = await ask('pay', '5');
    expect(again.status).toBe(75);
    expect(again.env.approvalId).not.toBe(id);
    expect(runs()).toHaveLength(1);
  });

  it('deny: the exec gets approval_denied (77) and nothing runs', async () => {
    const { env } = await ask('pay', '40');
    const r = typeInto(`deny ${String(env.approvalId)} --reason "too much"`, 'yes\\r');
    expect(r.status, r.stdout).toBe(0);
    expect(e.audit().at(-1)).toMatchObject({ mode: 'approve', decision: 'deny', code: 'approval_denied', reason: 'too much' });
    const d = await ask('pay', '40');
    expect(d.status).toBe(77);
    expect(d.env.code).toBe('approval_denied');
    expect(runs().filter((l) => l.startsWith('pay 40'))).toEqual([]);
    // The approve records (mode "approve") keep the chain valid.
    expect((await e.cli(['audit', 'verify'])).status).toBe(0);
  });

  it('approvalReason: required refuses an answer without --reason', async () => {
    const { env } = await ask('strict', '1');
    const r = typeInto(`approve ${String(env.approvalId)}`, 'yes\\r');
    expect(r.status).toBe(64);
    expect(r.stdout).toContain('requires a reason');
    expect((await pending()).map((p) => p.id)).toContain(env.approvalId);
  });

  it('a short TTL expires: --wait ends with approval_expired (77), and the next run asks anew', async () => {
    const w = await e.cli(['exec', 'fast.refund', '-p', 'amount=3', '--wait', '--json']);
    expect(w.status).toBe(77);
    const env = JSON.parse(w.stdout);
    expect(env.code).toBe('approval_expired');
    expect((await pending()).map((p) => p.id)).not.toContain(env.approvalId);
    const again = await ask('fast', '3');
    expect(again.status).toBe(75);
    expect(again.env.approvalId).not.toBe(env.approvalId);
    expect(runs().filter((l) => l.startsWith('fast'))).toEqual([]);
  });

  it('--wait returns when a person approves from another terminal, and runs', async () => {
    const waiting = e.start(['exec', 'pay.refund', '-p', 'amount=7', '--wait', '--json']);
    let id = '';
    await until(() => {
      const list = spawnSync(process.execPath, [BIN, 'approvals', '--json'], { cwd: e.projects.acme, env: e.env, encoding: 'utf8' });
      id = (JSON.parse(list.stdout) as { id: string; params: Record<string, string> }[]).find((p) => p.params.amount === '7')?.id ?? '';
      return id !== '';
    }, 'a pending approval');
    const r = typeInto(`approve ${id}`, 'yes\\r');
    expect(r.status, r.stdout).toBe(0);
    const done = await waiting.done;
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ ok: true, decision: 'allow' });
    expect(runs()).toContain('pay 7 tok-approvals-123');
  });
});
