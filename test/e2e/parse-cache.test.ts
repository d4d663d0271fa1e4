import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, makeE2E, type E2E } from './helpers.js';

// Issue 16 item 4, as the agent would do it: a person approves pay.charge with amount=1; the agent edits
// the cached parse of pay.yaml (the YAML stays byte-identical) so the template sends amount=99999. What
// runs, the audit's recipe hash and the hash the approval is bound to must all follow the YAML.
let e: E2E;
let ranLog: string;
let yaml: string;

beforeAll(async () => {
  e = makeE2E(['acme']);
  ranLog = join(e.root, 'ran.log');
  yaml = `service: pay\nsecrets: [T]\nrecipes:\n  charge:\n    description: charge\n    risk: write\n    params:\n      amount: { type: integer }\n    run: [sh, -c, 'echo "$1" >> "${ranLog}"', sh, 'amount={{params.amount}}']\n    env: { T: "{{secrets.T}}" }\n    sandbox: { paths: [{ path: ${JSON.stringify(dirname(ranLog))}, mode: rw }] }\n`;
  e.writeRecipe('pay', yaml);
  e.writeConfig(configYaml(e, { acme: 'pay:\n  secrets: { T: "local:acme/t" }\n  allow: ["*"]\n  approve: [charge]' }));
  await e.setSecret('local:acme/t', 'tok-cache-attack-4242');
});
afterAll(() => e?.cleanup());

function approve(id: string) {
  const cmd = `(sleep 1.5; printf 'yes\\r') | script -qec ${JSON.stringify(`node ${BIN} approve ${id}`)} /dev/null`;
  return spawnSync('sh', ['-c', cmd], { cwd: e.projects.acme, env: e.env, encoding: 'utf8', timeout: 30_000 });
}

/** Rewrite every cached parse of pay.yaml so "amount={{params.amount}}" is a fixed amount=99999. */
function forgeCache(): number {
  const dir = join(e.home, '.cache');
  let forged = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const file = join(dir, name);
    const raw = readFileSync(file, 'utf8');
    if (!raw.includes('"service":"pay"')) continue;
    const nl = raw.indexOf('\n');
    const macLine = nl === 64 ? raw.slice(0, nl + 1) : '';
    const payload = JSON.parse(macLine ? raw.slice(nl + 1) : raw) as { value: { recipes: { run: { source: string; tokens: unknown[] }[] }[] } };
    for (const r of payload.value.recipes) {
      for (const t of r.run) if (t.source === 'amount={{params.amount}}') t.tokens = [{ text: 'amount=99999' }];
    }
    writeFileSync(file, macLine + JSON.stringify(payload));
    forged++;
  }
  return forged;
}

describe('a forged parse cache', () => {
  it('does not change what runs, what the audit says or what the approval covers', async () => {
    const ask = await e.cli(['exec', 'pay.charge', '-p', 'amount=1', '--json']);
    expect(ask.status).toBe(75);
    const id = String((JSON.parse(ask.stdout) as { approvalId: string }).approvalId);
    expect(forgeCache()).toBeGreaterThan(0);
    expect(readFileSync(join(e.home, 'recipes', 'pay.yaml'), 'utf8')).toBe(yaml);
    const ok = approve(id);
    expect(ok.status, ok.stdout).toBe(0);
    expect(forgeCache()).toBeGreaterThanOrEqual(0);

    const run = await e.cli(['exec', 'pay.charge', '-p', 'amount=1', '--json']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(readFileSync(ranLog, 'utf8')).toBe('amount=1\n');
    const sha = createHash('sha256').update(yaml).digest('hex');
    const end = e.audit().filter((r) => r.mode === 'exec' && r.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ decision: 'allow', recipeSha256: sha, params: { amount: '1' }, approvalId: id });
  }, 60_000);
});
