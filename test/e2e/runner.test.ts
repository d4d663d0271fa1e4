import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, configYaml, type E2E, makeE2E, until } from './helpers.js';

/** How the child is run: argv without a shell, a clean environment, a private folder, no hangs. */
const RECIPES = `service: rn
secrets: [TOKEN]
recipes:
  env:
    description: dump what the child sees
    run: [sh, -c, 'env | sort; echo "mode=$(stat -c %a .)"; echo "file=$(stat -c %a given.txt)"; echo "pwd=$(pwd)"']
    env: { T: "{{secrets.TOKEN}}" }
    files:
      given.txt: "{{secrets.TOKEN}}"
  args:
    description: print each argument in brackets
    params:
      q: { type: string, maxLength: 200 }
    run: [sh, -c, 'printf "[%s]\\n" "$@"', sh, "{{params.q}}", "x={{params.q}}"]
  flag:
    description: a parameter as a whole argument
    params:
      name: { type: string, maxLength: 50 }
    run: [ls, "{{params.name}}"]
  background:
    description: leaves a background process holding stdout open
    run: [sh, -c, 'sh -c "read -r p _ < /proc/self/stat; echo \\$p > $1/bg.pid; exec sleep 30" & while [ ! -s "$1/bg.pid" ]; do sleep 0.01; done; echo done', sh, '{{project}}']
  hold:
    description: writes its pid and folder, then waits
    run: [sh, -c, 'read -r p _ < /proc/self/stat; echo $p > "$1/hold.pid"; pwd > "$1/hold.dir"; echo ready; sleep 30', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    files:
      given.txt: "{{secrets.TOKEN}}"
    timeout: 20s
  interrupt:
    description: exits 7 on SIGINT
    run: [sh, -c, "trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.05; done"]
    timeout: 20s
`;
const TOKEN = 'runner-e2e-token-8c1d5e0f2a3b4c5d';

describe('the child process', () => {
  let e: E2E;
  beforeAll(async () => {
    e = makeE2E(['acme']);
    e.writeRecipe('rn', RECIPES);
    // Pids the child writes must be host pids, so this suite runs with sandbox: off (test/sandbox has
    // the sandboxed child's kill and cleanup checks), and they are read from /proc/self/stat: even with
    // the sandbox off, an exec child has its own pid namespace where bwrap can make one (runner/contain.ts).
    e.writeConfig(configYaml(e, { acme: 'rn:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  sandbox: off' }));
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(() => e?.cleanup());

  it('gets only an allow-listed environment, a private 0700 folder as HOME and TMPDIR, files 0600', async () => {
    const r = await e.cli(['exec', 'rn.env'], {
      env: { GITHUB_TOKEN: 'ghp_ambient', AWS_SECRET_ACCESS_KEY: 'ambient', NODE_OPTIONS: '--max-old-space-size=64', LC_ALL: 'C.UTF-8', TZ: 'UTC' },
    });
    expect(r.status).toBe(0);
    const vars = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const names = Object.keys(vars).filter((k) => !['mode', 'file', 'pwd', 'PWD', 'SHLVL', '_', 'OLDPWD'].includes(k));
    expect(names.sort()).toEqual(['HOME', 'LANG', 'LC_ALL', 'PATH', 'T', 'TMPDIR', 'TZ']);
    expect(vars.T).toBe('[REDACTED:TOKEN]');
    expect(vars.HOME).toBe(vars.pwd);
    expect(vars.TMPDIR).toBe(vars.pwd);
    expect(vars.pwd!.startsWith(join(e.tmp, 'outloop-run-'))).toBe(true);
    expect(vars.mode).toBe('700');
    expect(vars.file).toBe('600');
    expect(existsSync(vars.pwd!)).toBe(false);
  });

  it('a parameter stays one argument: no shell, no splitting, no expansion', async () => {
    const q = 'a b; echo pwned $(id) `id` "quoted" \'single\' * ~';
    const r = await e.cli(['exec', 'rn.args', '-p', `q=${q}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`[${q}]\n[x=${q}]\n`);
  });

  it('a parameter that would become a flag is refused (65) before anything runs', async () => {
    const r = await e.cli(['exec', 'rn.flag', '-p', 'name=-la']);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('"name"');
    const ok = await e.cli(['exec', 'rn.flag', '-p', 'name=.']);
    expect(ok.status).toBe(0);
  });

  it('a background process left holding stdout does not keep outloop waiting', async () => {
    const r = await e.cli(['exec', 'rn.background']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(r.ms).toBeLessThan(5000);
    const pid = Number(readFileSync(join(e.projects.acme!, 'bg.pid'), 'utf8'));
    await until(() => !alive(pid), 'the background sleep to be gone', 3000).catch(() => {});
    expect(alive(pid)).toBe(false);
  });

  it('SIGINT to outloop reaches the child once; outloop exits with its status', async () => {
    const s = e.start(['exec', 'rn.interrupt']);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    s.child.kill('SIGINT');
    const r = await s.done;
    expect(r.status).toBe(7);
    expect(r.stdout.match(/got-int/g)).toHaveLength(1);
  });

  it('outloop killed by SIGKILL: the next run removes the dead run\'s folder and the secret file in it', async () => {
    const s = e.start(['exec', 'rn.hold']);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    const childPid = Number(readFileSync(join(e.projects.acme!, 'hold.pid'), 'utf8'));
    const dir = readFileSync(join(e.projects.acme!, 'hold.dir'), 'utf8').trim();
    try {
      expect(readFileSync(join(dir, 'given.txt'), 'utf8')).toBe(TOKEN);
      s.child.kill('SIGKILL');
      const r = await s.done;
      expect(r.signal).toBe('SIGKILL');
      // Nothing could clean up after a SIGKILL...
      expect(existsSync(dir)).toBe(true);
      // ...so the next run does.
      const next = await e.cli(['exec', 'rn.args', '-p', 'q=x']);
      expect(next.status).toBe(0);
      expect(existsSync(dir)).toBe(false);
      expect(e.runDirs()).toEqual([]);
      // The interrupted attempt is on record (start without end) and the chain is intact.
      const v = await e.cli(['audit', 'verify']);
      expect(v.status).toBe(0);
      const holds = e.audit().filter((x) => x.recipe === 'hold');
      expect(holds.map((x) => x.phase)).toEqual(['start']);
    } finally {
      try {
        process.kill(-childPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
});
