import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, configYaml, type E2E, makeE2E, until } from '../e2e/helpers.js';

/**
 * Children end with the run (issue 19 items 1, 3, 9): SIGKILLed outloop, a recipe timeout against a
 * grandchild that left the process group with setsid, and run folders swept by any later start.
 * sandbox: off throughout, the case where no sandbox's pid namespace does it. Pids are host pids, read
 * from /proc/self/stat by the shell itself (a pid namespace's $$ would be 2).
 */
const HOSTPID = 'read -r p _ < /proc/self/stat';
const RECIPES = `service: kids
secrets: [TOKEN]
recipes:
  hold:
    description: writes its host pid, then waits with the secret in its environment
    run: [sh, -c, '${HOSTPID}; echo $p > "$1/hold.pid"; pwd > "$1/hold.dir"; echo ready; exec sleep 60', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    files:
      given.txt: "{{secrets.TOKEN}}"
    timeout: 50s
  escape:
    description: a grandchild leaves the group (setsid) and keeps stdout open; the child waits too
    run: [sh, -c, 'setsid sh -c "${HOSTPID}; echo \\$p > $1/gc.pid; exec sleep 60" & echo started; sleep 60', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    timeout: 1s
  family:
    description: a child in the group and a setsid one, both in the background with the secret; the shell waits
    run: [sh, -c, '(${HOSTPID}; echo $p > "$1/bg.pid"; exec sleep 60) & setsid sh -c "${HOSTPID}; echo \\$p > $1/ss.pid; exec sleep 60" & while [ ! -s "$1/bg.pid" ] || [ ! -s "$1/ss.pid" ]; do sleep 0.01; done; echo ready; wait', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    timeout: 50s
  daemonize:
    description: the child exits at once, leaving a setsid grandchild holding stdout
    run: [sh, -c, 'setsid sh -c "${HOSTPID}; echo \\$p > $1/dm.pid; exec sleep 60" & while [ ! -s "$1/dm.pid" ]; do sleep 0.01; done; echo bye', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    timeout: 40s
`;
const TOKEN = 'faults-children-token-5b0e7c1d9a2f';

/** Processes whose environment holds the token: the secret still alive somewhere. */
function holdersOfToken(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`).includes(TOKEN)) out.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

function readPid(e: E2E, name: string): number {
  return Number(readFileSync(join(e.projects.acme!, name), 'utf8'));
}

describe('children end with the run (sandbox: off)', () => {
  let e: E2E;
  const cleanup: number[] = [];
  beforeAll(async () => {
    e = makeE2E(['acme']);
    e.writeRecipe('kids', RECIPES);
    e.writeConfig(configYaml(e, { acme: 'kids:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  sandbox: off' }));
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(() => {
    for (const p of cleanup) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    e?.cleanup();
  });

  it('SIGKILL to outloop mid-exec: the child and the secret in its environment are gone; the next start of any command removes the run folder', async () => {
    const s = e.start(['exec', 'kids.hold']);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    const pid = readPid(e, 'hold.pid');
    cleanup.push(pid);
    const dir = readFileSync(join(e.projects.acme!, 'hold.dir'), 'utf8').trim();
    expect(alive(pid)).toBe(true);
    expect(holdersOfToken()).toContain(pid);
    s.child.kill('SIGKILL');
    expect((await s.done).signal).toBe('SIGKILL');
    await until(() => !alive(pid), 'the orphaned child to die', 5000).catch(() => {});
    expect(alive(pid)).toBe(false);
    expect(holdersOfToken()).toEqual([]);
    // The 0600 file is still there (nothing ran after the SIGKILL)...
    expect(readFileSync(join(dir, 'given.txt'), 'utf8')).toBe(TOKEN);
    // ...until any outloop starts: here a check, which runs nothing and reads no secret.
    const c = await e.cli(['check', 'kids.hold']);
    expect(c.status).toBe(0);
    expect(e.runDirs()).toEqual([]);
  });

  it('SIGKILL to outloop: what the child started in the background, in its group or in a session of its own, dies too (the pid namespace, no watchdog process)', async () => {
    const s = e.start(['exec', 'kids.family']);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    const pids = [readPid(e, 'bg.pid'), readPid(e, 'ss.pid')];
    cleanup.push(...pids);
    for (const p of pids) expect(alive(p)).toBe(true);
    s.child.kill('SIGKILL');
    expect((await s.done).signal).toBe('SIGKILL');
    await until(() => pids.every((p) => !alive(p)), 'the background processes to die', 5000).catch(() => {});
    expect(pids.filter(alive)).toEqual([]);
    expect(holdersOfToken()).toEqual([]);
  });

  it('the timeout holds against a setsid grandchild that keeps stdout open: exit 124 at once, the grandchild killed', async () => {
    const r = await e.cli(['exec', 'kids.escape'], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(124);
    expect(r.ms).toBeLessThan(10_000);
    const gc = readPid(e, 'gc.pid');
    cleanup.push(gc);
    await until(() => !alive(gc), 'the grandchild to die', 3000).catch(() => {});
    expect(alive(gc)).toBe(false);
    expect(holdersOfToken()).toEqual([]);
  });

  it('a child that exits leaving a setsid grandchild on stdout: outloop returns the child\'s status, the grandchild is killed', async () => {
    const r = await e.cli(['exec', 'kids.daemonize'], { timeoutMs: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('bye\n');
    expect(r.ms).toBeLessThan(10_000);
    const gc = readPid(e, 'dm.pid');
    cleanup.push(gc);
    await until(() => !alive(gc), 'the grandchild to die', 3000).catch(() => {});
    expect(alive(gc)).toBe(false);
    expect(holdersOfToken()).toEqual([]);
  });
});
