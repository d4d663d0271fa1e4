import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, configYaml, type E2E, makeE2E, plantedSecret, until } from '../e2e/helpers.js';

/**
 * `outloop run` through the built CLI with pipes (--no-pty, and the default when stdout is not a
 * terminal): it must behave like the bare command.
 */
const SECRET = plantedSecret('sk_test');
const GLOBEX = plantedSecret('globex');

describe('outloop run over pipes', () => {
  let e: E2E;
  let dir: string;
  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return `./${name}`;
  };
  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    dir = e.projects.acme!;
    e.writeConfig(
      configYaml(e, {
        acme: 'stripe:\n  secrets: { STRIPE_KEY: "local:acme/stripe" }\n  run: true\nbilling:\n  secrets: { BILLING_KEY: "local:acme/billing" }\n  allow: ["*"]',
        globex: 'stripe:\n  secrets: { STRIPE_KEY: "local:globex/stripe" }\n  run: true',
      }),
    );
    await e.setSecret('local:acme/stripe', SECRET);
    await e.setSecret('local:globex/stripe', GLOBEX);
  });
  afterAll(() => e?.cleanup());
  const run = (argv: string[], o: Parameters<E2E['cli']>[1] = {}, flags: string[] = []) => e.cli(['run', '--service', 'stripe', ...flags, '--', ...argv], o);

  it('keeps stdout and stderr apart, redacts both, and exits with the child\'s code', async () => {
    const cmd = script('both.sh', 'echo "out $STRIPE_KEY"; echo "err $STRIPE_KEY" >&2; echo out2; exit 9');
    const r = await run([cmd]);
    expect(r.status).toBe(9);
    expect(r.stdout).toBe('out [REDACTED:STRIPE_KEY]\nout2\n');
    expect(r.stderr).toBe('err [REDACTED:STRIPE_KEY]\n');
    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ mode: 'run', phase: 'end', decision: 'allow', exitCode: 9, redactions: 2, argv: [cmd], pty: false });
    expect(JSON.stringify(e.audit())).not.toContain(SECRET);
  });

  it('keeps the relative order of stdout and stderr writes', async () => {
    // Two pipes have no order between them except time: writes 150 ms apart keep this test about outloop
    // (which must not hold one stream back) rather than about scheduling on a loaded machine.
    const cmd = script('order.sh', 'for i in 1 2 3; do echo "o$i"; sleep 0.15; echo "e$i" >&2; sleep 0.15; done');
    // One pipe for both of outloop's streams, as `cmd 2>&1 | less` would have.
    const r = await e.cli(['run', '--service', 'stripe', '--', 'sh', '-c', `${cmd} 2>&1`]);
    expect(r.stdout).toBe('o1\ne1\no2\ne2\no3\ne3\n');
    const merged = await new Promise<string>((resolve) => {
      const c = e.start(['run', '--service', 'stripe', '--', cmd]);
      let text = '';
      c.child.stdout!.on('data', (d) => (text += `${d}`));
      c.child.stderr!.on('data', (d) => (text += `${d}`));
      void c.done.then(() => resolve(text));
    });
    expect(merged).toBe('o1\ne1\no2\ne2\no3\ne3\n');
  });

  it('passes stdin through', async () => {
    const r = await run(['sh', '-c', 'read a; read b; echo "got $a and $b"; cat'], { input: 'one\ntwo\nrest\n' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('got one and two\nrest\n');
  });

  it('exits 128+N when the child is killed by signal N', async () => {
    expect((await run(['sh', '-c', 'kill -KILL $$'])).status).toBe(137);
    expect((await run(['sh', '-c', 'kill -TERM $$'])).status).toBe(143);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const)('forwards %s to the child exactly once', async (sig) => {
    const name = sig.slice(3);
    const cmd = script(`trap-${name}.sh`, `n=0\ntrap 'n=$((n+1))' ${name}\necho ready\ni=0; while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done\necho "count=$n"\nexit 5`);
    const c = e.start(['run', '--service', 'stripe', '--', cmd]);
    await until(() => c.stdout().includes('ready'), 'ready');
    c.child.kill(sig);
    const r = await c.done;
    expect(r.stdout).toContain('count=1');
    expect(r.status).toBe(5);
  });

  it('forwards SIGWINCH', async () => {
    const cmd = script('winch.sh', `n=0\ntrap 'n=$((n+1))' WINCH\necho ready\ni=0; while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done\necho "count=$n"`);
    const c = e.start(['run', '--service', 'stripe', '--', cmd]);
    await until(() => c.stdout().includes('ready'), 'ready');
    c.child.kill('SIGWINCH');
    expect((await c.done).stdout).toContain('count=1');
  });

  it.each([[['--no-pty']], [['--pty']]])('leaves no child behind when outloop is killed with SIGKILL (%j)', async (flags) => {
    const pidFile = join(dir, `child-${flags[0]}.pid`);
    // A background grandchild too, which ignores SIGHUP as nohup would: only a kill of the group ends it.
    const c = e.start(['run', '--service', 'stripe', ...flags, '--', 'sh', '-c', `trap '' HUP; sleep 61 & echo "$$ $!" > ${pidFile}; echo ready; exec sleep 60`]);
    await until(() => c.stdout().includes('ready'), 'ready');
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    expect(pids.map(alive)).toEqual([true, true]);
    c.child.kill('SIGKILL');
    await c.done;
    for (const pid of pids) await until(() => !alive(pid), `process ${pid} to die with outloop`, 5000);
  });

  it('leaves no watchdog behind after a normal exit', async () => {
    const before = watchdogs();
    const r = await run(['true']);
    expect(r.status).toBe(0);
    await until(() => watchdogs() <= before, 'the watchdog to go', 3000);
  });

  it('gives the child the parent environment minus anything secret-like, plus the granted secret', async () => {
    const ambient = {
      GITHUB_TOKEN: plantedSecret('ambient1'),
      AWS_SECRET_ACCESS_KEY: plantedSecret('ambient2'),
      MY_PASSWORD: plantedSecret('ambient3'),
      INNOCENT_LOOKING: `sk_live_${'a1B2c3D4e5'.repeat(3)}`,
      DATABASE_URL: 'postgres://app:hunter2hunter2@db.internal/app',
      KEEP_ME: 'plain-value',
    };
    const cmd = script('vars.sh', [...Object.keys(ambient), 'STRIPE_KEY'].map((n) => `echo "${n}=\${${n}-unset}"`).join('\n'));
    const r = await run([cmd], { env: ambient });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'GITHUB_TOKEN=unset', 'AWS_SECRET_ACCESS_KEY=unset', 'MY_PASSWORD=unset', 'INNOCENT_LOOKING=unset', 'DATABASE_URL=unset',
      'KEEP_ME=plain-value', 'STRIPE_KEY=[REDACTED:STRIPE_KEY]',
    ]);
    const end = e.audit().at(-1)!;
    expect(end.envStripped).toEqual(expect.arrayContaining(['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'MY_PASSWORD', 'INNOCENT_LOOKING', 'DATABASE_URL']));
    for (const v of Object.values(ambient).slice(0, 4)) expect(readFileSync(join(e.home, 'audit.jsonl'), 'utf8')).not.toContain(v);
  });

  it('injects --env-file references bound to this tenant; refuses another tenant\'s before reading anything', async () => {
    writeFileSync(join(dir, '.env.refs'), '# refs\nexport STRIPE_API_KEY="local:acme/stripe"\nPORT=3000\n');
    const cmd = script('ef.sh', 'echo "k=$STRIPE_API_KEY p=$PORT"');
    const ok = await run([cmd], {}, ['--env-file', '.env.refs']);
    expect(ok.status).toBe(0);
    // One value under two names (the grant's and the file's): either label is right.
    expect(ok.stdout).toMatch(/^k=\[REDACTED:STRIPE_(API_)?KEY\] p=3000\n$/);

    writeFileSync(join(dir, '.env.globex'), 'STRIPE_KEY=local:globex/stripe\n');
    const probe = join(e.root, 'probe.log');
    const bad = await run([cmd], { probe }, ['--env-file', '.env.globex']);
    expect(bad.status).toBe(77);
    expect(bad.stderr).toContain('[env_ref_not_granted]');
    expect(bad.stdout + bad.stderr).not.toContain(GLOBEX);
    // Denied before the local store was opened at all.
    expect(readFileSyncSafe(probe)).not.toMatch(/store\.(json|key)/);

    writeFileSync(join(dir, '.env.raw'), `STRIPE_KEY=${SECRET}\n`);
    const raw = await run([cmd], {}, ['--env-file', '.env.raw']);
    expect(raw.status).toBe(64);
    expect(raw.stderr).toContain('[secret_in_env_file]');
    expect(raw.stderr).not.toContain(SECRET);
  });

  it('denies run: false grants, reveal commands and wrong tenants with code, reason and next', async () => {
    const notRun = await e.cli(['run', '--service', 'billing', '--', 'true']);
    expect(notRun.status).toBe(77);
    expect(notRun.stderr).toMatch(/denied: .* \[run_not_allowed\]\nnext: .*run: true/);
    const reveal = await run(['printenv']);
    expect(reveal.status).toBe(77);
    expect(reveal.stderr).toContain('[reveal_command]');
    const wrong = await e.cli(['run', '--service', 'stripe', '--tenant', 'globex', '--json', '--', 'true']);
    expect(wrong.status).toBe(77);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, decision: 'deny', code: 'wrong_tenant', reason: expect.any(String), next: expect.any(String) });
  });

  it('--json prints one envelope with the redacted output', async () => {
    const cmd = script('j.sh', 'echo "v=$STRIPE_KEY"; echo e >&2; exit 3');
    const r = await run([cmd], {}, ['--json']);
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, decision: 'allow', exitCode: 3, stdout: 'v=[REDACTED:STRIPE_KEY]\n', stderr: 'e\n', redactions: 1 });
  });

  it('usage errors: no --service, no command', async () => {
    expect((await e.cli(['run', '--', 'true'])).status).toBe(64);
    expect((await e.cli(['run', '--service', 'stripe'])).status).toBe(64);
  });
});

function watchdogs(): number {
  const r = spawnSync('pgrep', ['-fc', 'outloop-watchdog'], { encoding: 'utf8' });
  return Number(r.stdout.trim() || '0');
}

function readFileSyncSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
