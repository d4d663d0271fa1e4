import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME, PROTOCOL_VERSION } from '../../src/system/protocol.js';
import { AGENT_USER, CI, configYaml, lenRecipes, makeSystem, mcpCall, skipSystem, type SystemEnv } from './helpers.js';

// System mode end to end: real users (`outloop` runs the daemon, `outloop-agent` plays a hostile agent),
// a real outloopd, the real client. Each attack of issue 14 that applies is carried out as the agent's uid.

const ACME = 'acme-sys-secret-4b1f9c2e7d';
const GLOBEX = 'globex-sys-secret-9e3a1d77c5';

const RECIPE = lenRecipes(`  hold:
    description: holds the value in its environment for a while
    run: [sh, -c, 'echo started; exec sleep 20']
    env: { T: "{{secrets.TOKEN}}" }
    timeout: 60s
  core:
    description: the core-file limit the child runs under
    run: [sh, -c, 'ulimit -c']
  refund:
    description: needs a person's approval
    risk: write
    run: [sh, -c, 'printf "refunded %s" "\${#T}"']
    env: { T: "{{secrets.TOKEN}}" }
`);

let s: SystemEnv;

/** Which processes of the daemon's user run `sleep 20` (the held child). */
function heldChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}`).uid !== s.daemonUser.uid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') === 'sleep\x0020\x00') out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function waitFor(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh folder of the agent's for a test's fifos. */
function agentDir(name: string): string {
  const d = join(s.agent.home, name);
  mkdirSync(d);
  chownSync(d, s.agent.uid, s.agent.gid);
  return d;
}

/** What a session's CMD and the orphan it forks need, passed in the environment rather than quoted in. */
function orphanEnv(d: string, orphan: string): NodeJS.ProcessEnv {
  return { D: d, ORPHAN: orphan, GLOBEX: s.projects.globex, NODE: process.execPath, BIN: join(s.pkg, 'bin/outloop.js') };
}

describe.skipIf(skipSystem)('system mode: outloopd under its own user, the agent as another uid', () => {
  beforeAll(async () => {
    s = await makeSystem();
    s.writeRecipe('len', RECIPE);
    s.writeConfig(configYaml(s, {
      // sandbox: off and run: true: system mode sandboxes every child anyway (its uid owns the store).
      acme: 'len:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  approve: [refund]\n  run: true\n  sandbox: off',
      globex: 'len:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: [show]',
    }));
    await s.startDaemon();
    expect((await s.root$(['secrets', 'set', 'local:acme/token'], { input: ACME })).status).toBe(0);
    expect((await s.root$(['secrets', 'set', 'local:globex/token'], { input: GLOBEX })).status).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('install: config root-owned, state 0700 and the socket folder owned by the daemon, a hardened unit', () => {
    const st = (p: string) => statSync(join(s.prefix, p));
    expect(st('etc/outloop/config.yaml')).toMatchObject({ uid: 0 });
    expect(st('etc/outloop/recipes').uid).toBe(0);
    expect(st('var/lib/outloop')).toMatchObject({ uid: s.daemonUser.uid });
    expect(st('var/lib/outloop').mode & 0o777).toBe(0o700);
    expect(st('var/log/outloop').uid).toBe(s.daemonUser.uid);
    const unit = readFileSync(join(s.prefix, 'etc/systemd/system/outloopd.service'), 'utf8');
    for (const o of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'LimitCORE=0', 'UMask=0077', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6', `User=outloop`, `--prefix ${s.prefix}`]) expect(unit).toContain(o);
    // Idempotent: a second install succeeds and leaves the config a person wrote alone.
    const before = readFileSync(join(s.prefix, 'etc/outloop/config.yaml'), 'utf8');
    const again = spawnSync(process.execPath, [join(s.pkg, 'bin/outloop.js'), 'system', 'install', '--prefix', s.prefix], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(s.prefix, 'etc/outloop/config.yaml'), 'utf8')).toBe(before);
    expect(st('var/lib/outloop').mode & 0o777).toBe(0o700);
  });

  it('the agent runs exec, check, recipes list, redact and audit through the daemon, with personal mode\'s output and exit codes', async () => {
    const r = await s.agent$(['exec', 'len.show']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${ACME.length} <[REDACTED:TOKEN]>`);
    expect(r.status).toBe(0);
    const j = await s.agent$(['exec', 'len.show', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, decision: 'allow', exitCode: 0, redactions: 1 });
    expect((await s.agent$(['check', 'len.show'])).status).toBe(0);
    expect((await s.agent$(['exec', 'len.nope'])).status).toBe(64);
    const list = await s.agent$(['recipes', 'list', '--json']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain('show');
    const red = await s.agent$(['redact', '-q'], { input: `log line ${ACME} end\n` });
    expect(red.stdout).toBe('log line [REDACTED:TOKEN] end\n');
    const audit = await s.agent$(['audit', '--json']);
    expect(audit.status).toBe(0);
    expect(audit.stdout).toContain('"len"');
    const end = s.audit().filter((x) => x.phase === 'end' && x.mode === 'exec' && x.recipe === 'show').at(-1)!;
    // Who asked, as the kernel said: on the worker's records as on the daemon's own.
    expect(end).toMatchObject({ tenant: 'acme', sandbox: 'bwrap', peer: { uid: s.agent.uid } });
    expect(s.audit().filter((x) => x.recipe === 'show' && x.id === end.id).map((x) => x.phase)).toEqual(['start', 'end']);
    expect(s.audit().find((x) => x.id === end.id && x.phase === 'start')).toMatchObject({ peer: { uid: s.agent.uid } });
    for (const x of [r, j, list, red, audit]) expect(x.stdout + x.stderr).not.toContain(ACME);
  });

  it('attack: read the store, its key, approvals and the audit log as the agent', async () => {
    for (const f of ['var/lib/outloop/store.json', 'var/lib/outloop/store.key', 'var/lib/outloop', 'var/log/outloop/audit.jsonl']) {
      const r = await s.agentRaw(['cat', join(s.prefix, f)]);
      expect(r.status, f).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied|Is a directory/);
      expect(r.stdout).not.toContain(ACME);
    }
    const ls = await s.agentRaw(['ls', join(s.prefix, 'var/lib/outloop')]);
    expect(ls.stderr).toContain('Permission denied');
    // Nor through the daemon, whose user can read them: no command reads a file the caller names.
    const key = join(s.prefix, 'var/lib/outloop/store.key');
    for (const argv of [['recipes', 'lint', key], ['policy', 'test', key]]) {
      const r = await s.agent$(argv);
      expect(r.status, argv.join(' ')).toBe(77);
      expect(r.stderr).toContain('[person_only]');
    }
  });

  it('run: the wrapped command runs as the daemon\'s user in bwrap: the secret redacted, the store out of sight, the project not writable', async () => {
    const script = join(s.projects.acme!, 'wrapped.sh');
    writeFileSync(script, `#!/bin/sh\nprintf 'len=%s val=%s\\n' "\${#TOKEN}" "$TOKEN"\nid -u\ncat ${join(s.prefix, 'var/lib/outloop/store.key')} ${join(s.prefix, 'var/lib/outloop/store.json')}\necho x > written.txt\n`, { mode: 0o755 });
    chownSync(script, s.agent.uid, s.agent.gid);
    const r = await s.agent$(['run', '--service', 'len', '--', './wrapped.sh']);
    expect(r.stdout).toBe(`len=${ACME.length} val=[REDACTED:TOKEN]\n${s.daemonUser.uid}\n`);
    expect(r.stderr).toMatch(/store\.key: No such file/);
    expect(r.stderr).toMatch(/written\.txt: Permission denied/);
    expect(r.stdout + r.stderr).not.toContain(ACME);
    const end = s.audit().filter((x) => x.mode === 'run' && x.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ tenant: 'acme', sandbox: 'bwrap', sandboxMode: 'required' });
  });

  it('attack: edit config.yaml and the recipes, or forge state, as the agent', async () => {
    for (const f of ['etc/outloop/config.yaml', 'etc/outloop/recipes/len.yaml', 'etc/outloop/recipes/leak.yaml', 'var/lib/outloop/approvals.json', 'var/lib/outloop/budgets.json', 'var/log/outloop/audit.jsonl']) {
      const r = await s.agentRaw(['sh', '-c', `echo 'tenants: {}' >> "$0"`, join(s.prefix, f)]);
      expect(r.status, f).not.toBe(0);
    }
    const mv = await s.agentRaw(['mv', join(s.prefix, 'etc/outloop'), join(s.prefix, 'etc/aside')]);
    expect(mv.status).not.toBe(0);
    expect(readFileSync(join(s.prefix, 'etc/outloop/recipes/len.yaml'), 'utf8')).toBe(RECIPE);
  });

  it('attack: OUTLOOP_HOME / XDG_CONFIG_HOME pointed at a config of the agent\'s own change nothing', async () => {
    const own = join(s.agent.home, 'evil');
    mkdirSync(join(own, 'recipes'), { recursive: true });
    writeFileSync(join(own, 'recipes', 'len.yaml'), RECIPE.replace('recipes:\n', "recipes:\n  leak:\n    description: reversed\n    run: [sh, -c, 'echo \"$T\" | rev']\n    env: { T: \"{{secrets.TOKEN}}\" }\n"));
    writeFileSync(join(own, 'config.yaml'), configYaml(s, { globex: 'len:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]' }).replace(JSON.stringify(s.projects.globex), JSON.stringify(s.projects.acme)));
    spawnSync('chown', ['-R', `${s.agent.uid}:${s.agent.gid}`, own]);
    const env = { OUTLOOP_HOME: own, XDG_CONFIG_HOME: own, XDG_STATE_HOME: own };
    const leak = await s.agent$(['exec', 'len.leak'], { env });
    expect(leak.status).toBe(64);
    expect(leak.stderr).toContain('unknown_recipe');
    const r = await s.agent$(['exec', 'len.show'], { env });
    expect(r.stdout).toBe(`${ACME.length} <[REDACTED:TOKEN]>`);
    expect(r.stdout + leak.stdout).not.toContain(GLOBEX.split('').reverse().join(''));
  });

  it('attack: NODE_OPTIONS=--require into the client, then a heap snapshot and strace of it: the client holds nothing', async () => {
    const dump = join(s.agent.home, 'dump.cjs');
    const snap = join(s.agent.home, 'client.heapsnapshot');
    writeFileSync(dump, `process.on('exit', () => { require('v8').writeHeapSnapshot(${JSON.stringify(snap)}); });\n`);
    chownSync(dump, s.agent.uid, s.agent.gid);
    const r = await s.agent$(['exec', 'len.show'], { env: { NODE_OPTIONS: `--require=${dump}` } });
    expect(r.status, r.stderr).toBe(0);
    const heap = readFileSync(snap, 'utf8');
    expect(heap.length).toBeGreaterThan(100_000);
    expect(heap).not.toContain(ACME);
    if (CI || spawnSync('sh', ['-c', 'command -v strace']).status === 0) {
      const trace = join(s.agent.home, 'trace.txt');
      const t = await s.agentRaw(['strace', '-f', '-qq', '-s', '65536', '-o', trace, process.execPath, join(s.pkg, 'bin/outloop.js'), 'exec', 'len.show']);
      expect(t.stdout).toContain('REDACTED');
      const text = readFileSync(trace, 'utf8');
      expect(text).toContain('REDACTED');
      expect(text).not.toContain(ACME);
      // The daemon cannot be traced by the agent.
      const p = await s.agentRaw(['strace', '-p', String(s.daemon!.pid), '-o', '/dev/null'], { timeoutMs: 5000 });
      expect(p.status).not.toBe(0);
    }
  });

  it('attack: read a running child\'s /proc/<pid>/environ, cwd, root and run folder as the agent', async () => {
    const run = s.startAgent([process.execPath, join(s.pkg, 'bin/outloop.js'), 'exec', 'len.hold']);
    await waitFor(() => heldChildren().length > 0);
    const [pid] = heldChildren();
    for (const f of ['environ', 'root/', 'cwd/', 'mem']) {
      const r = await s.agentRaw(['sh', '-c', 'cat "$0" 2>&1 || ls "$0" 2>&1', `/proc/${pid}/${f}`]);
      expect(r.stdout, f).not.toContain(ACME);
      expect(r.stdout, f).toMatch(/Permission denied/);
    }
    run.child.kill('SIGKILL');
    await run.done;
  });

  it('a client that disconnects mid-run: the child is stopped and the end record says so', async () => {
    const run = s.startAgent([process.execPath, join(s.pkg, 'bin/outloop.js'), 'exec', 'len.hold']);
    await waitFor(() => run.stdout().includes('started'));
    expect(heldChildren().length).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await run.done;
    await waitFor(() => heldChildren().length === 0);
    await waitFor(() => s.audit().some((x) => x.phase === 'end' && x.recipe === 'hold' && x.exitCode === 129));
    // The run's own end record (exit 129, SIGHUP) and the daemon's note of why.
    await waitFor(() => s.audit().some((x) => x.code === 'client_gone'));
    expect(s.audit().filter((x) => x.code === 'client_gone').at(-1)).toMatchObject({ mode: 'system', command: 'exec len.hold', peer: { uid: s.agent.uid } });
  });

  it('person-only: approve driven through a real pseudo-terminal by the agent is refused (77); root approves', async () => {
    const ask = await s.agent$(['exec', 'len.refund', '--json']);
    expect(ask.status).toBe(75);
    const id = JSON.parse(ask.stdout).approvalId as string;
    const cmd = `(sleep 1; printf 'yes\\r') | script -qec "${process.execPath} ${join(s.pkg, 'bin/outloop.js')} approve ${id}" /dev/null`;
    const viaPty = await s.agentRaw(['sh', '-c', cmd]);
    expect(viaPty.stdout).toContain('person_only');
    expect(viaPty.status).toBe(77);
    const tmux = await s.agentRaw(['python3', '-c', `import pty,sys; sys.exit(pty.spawn(["${process.execPath}", "${join(s.pkg, 'bin/outloop.js')}", "deny", "${id}"]) >> 8)`]);
    expect(tmux.stdout).toContain('person_only');
    expect((await s.agent$(['exec', 'len.refund'])).status).toBe(75);
    for (const argv of [['secrets', 'set', 'local:acme/token'], ['session', '--tenant', 'acme', '--', 'true'], ['init', '--tenant', 'acme']]) {
      const r = await s.agent$(argv, { input: 'x' });
      expect(r.status, argv.join(' ')).toBe(77);
      expect(r.stderr).toContain('[person_only]');
    }
    expect(s.audit().filter((x) => x.code === 'person_only').length).toBeGreaterThanOrEqual(5);
    expect(s.audit().find((x) => x.code === 'person_only')).toMatchObject({ peer: { uid: s.agent.uid } });
    // The person: root, in a terminal.
    const ok = spawnSync('sh', ['-c', `(sleep 1; printf 'yes\\r') | script -qec "${process.execPath} ${join(s.pkg, 'bin/outloop.js')} approve ${id}" /dev/null`], { encoding: 'utf8', env: { PATH: process.env.PATH, OUTLOOP_SOCKET: s.socket } });
    expect(ok.stdout).toContain(`approved ${id}`);
    const ran = await s.agent$(['exec', 'len.refund']);
    expect(ran.stdout).toBe(`refunded ${ACME.length}`);
    expect(ran.status).toBe(0);
  });

  it('sudo outloop secrets set on a terminal: the client asks hidden, the daemon stores it, nothing echoed', async () => {
    const value = 'typed-sys-secret-31f7a0c2';
    const cmd = `(sleep 1; printf '${value}\\r') | script -qec "${process.execPath} ${join(s.pkg, 'bin/outloop.js')} secrets set local:acme/typed" /dev/null`;
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { PATH: process.env.PATH, OUTLOOP_SOCKET: s.socket } });
    expect(r.stdout).toContain('input hidden');
    expect(r.stdout).toContain('Stored a value for local:acme/typed');
    expect(r.stdout).not.toContain(value);
    const list = await s.agent$(['secrets', 'list', '--json']);
    expect(list.stdout).toContain('local:acme/typed');
  });

  it('sessions: a session for acme is denied globex\'s project (wrong_tenant); only a person starts one', async () => {
    const bin = join(s.pkg, 'bin/outloop.js');
    const script = `cd ${s.projects.globex} && ${process.execPath} ${bin} exec len.show; echo "globex=$?"; cd ${s.projects.acme} && ${process.execPath} ${bin} exec len.show; echo " acme=$?"`;
    const r = await s.root$(['session', '--tenant', 'acme', '--user', 'outloop-agent', '--', 'sh', '-c', script]);
    expect(r.stderr).toContain('[wrong_tenant]');
    expect(r.stdout).toContain('globex=77');
    expect(r.stdout).toContain(`${ACME.length} <[REDACTED:TOKEN]> acme=0`);
    expect(r.stdout).not.toContain(GLOBEX.length === ACME.length ? 'never' : String(GLOBEX.length));
    // Outside any session the folder still decides.
    const g = await s.agent$(['exec', 'len.show'], { cwd: s.projects.globex });
    expect(g.stdout).toBe(`${GLOBEX.length} <[REDACTED:TOKEN]>`);
  });

  it('tenants.<name>.users: the agent\'s uid bound to acme is denied globex\'s project outside any session (its folder is its own words, its uid is not)', async () => {
    const plain = configYaml(s, {
      acme: 'len:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  approve: [refund]\n  run: true\n  sandbox: off',
      globex: 'len:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: [show]',
    });
    // Before: the folder alone decides, so the agent reaches globex's value from globex's project.
    expect((await s.agent$(['exec', 'len.show'], { cwd: s.projects.globex })).stdout).toBe(`${GLOBEX.length} <[REDACTED:TOKEN]>`);
    s.writeConfig(plain.replace(`projects: [${JSON.stringify(s.projects.acme)}]\n`, `projects: [${JSON.stringify(s.projects.acme)}]\n    users: [${AGENT_USER}]\n`));
    try {
      const g = await s.agent$(['exec', 'len.show'], { cwd: s.projects.globex });
      expect(g.status).toBe(77);
      expect(g.stderr).toContain('[wrong_tenant]');
      expect(g.stderr).toContain(`requests from OS user ${AGENT_USER} are bound to tenant "acme"`);
      expect(g.stdout).not.toContain(String(GLOBEX.length));
      // Asserting globex does not move it either; its own tenant's project still works.
      expect((await s.agent$(['exec', '--tenant', 'globex', 'len.show'], { cwd: s.projects.globex })).status).toBe(77);
      expect((await s.agent$(['exec', 'len.show'], { cwd: s.projects.acme })).stdout).toBe(`${ACME.length} <[REDACTED:TOKEN]>`);
      // A person (root) is not bound by the agent's entry.
      expect((await s.root$(['exec', 'len.show'], { cwd: s.projects.globex })).stdout).toBe(`${GLOBEX.length} <[REDACTED:TOKEN]>`);
      expect(s.audit().filter((x) => x.code === 'wrong_tenant').at(-1)).toMatchObject({ decision: 'deny', project: s.projects.globex, peer: { uid: s.agent.uid } });
    } finally {
      s.writeConfig(plain);
    }
  });

  it('sessions: a double fork does not leave the session (the root is a subreaper): the orphan in globex\'s project is denied wrong_tenant', async () => {
    const d = agentDir('orphan');
    // The orphan waits for "go", sent only once the middle process (setsid -f's parent) has exited, so
    // it asks after it was reparented; it reports its parent then and what outloop said.
    const orphan = 'read x < "$D/go"; cd "$GLOBEX"; p=$(cut -d" " -f4 /proc/$$/stat); r=$("$NODE" "$BIN" exec len.show 2>&1); echo "ppid=$p exit=$? $r" > "$D/out"';
    const cmd = 'mkfifo "$D/go" "$D/out"; ( setsid -f sh -c "$ORPHAN" </dev/null >/dev/null 2>&1 ); echo go > "$D/go"; cat "$D/out"; echo "root=$PPID"';
    const r = await s.root$(['session', '--tenant', 'acme', '--user', 'outloop-agent', '--', 'sh', '-c', cmd], { env: orphanEnv(d, orphan) });
    expect(r.stdout).toContain('exit=77');
    expect(r.stdout).toContain('[wrong_tenant]');
    expect(r.stdout).not.toContain(`${GLOBEX.length} <`);
    // The session's tenant was asserted for the orphan's request, in globex's project.
    expect(s.audit().filter((x) => x.code === 'wrong_tenant').at(-1)).toMatchObject({ decision: 'deny', project: s.projects.globex, reason: expect.stringContaining('asserts tenant "acme"') });
    // Adopted by the session's root (CMD's parent: setpriv execs CMD), not by init.
    const root = /root=(\d+)/.exec(r.stdout)?.[1];
    expect(r.stdout).toContain(`ppid=${root} `);
    // The record names the asker and the session (its root's pid) it was bound to.
    expect(s.audit().filter((x) => x.code === 'wrong_tenant').at(-1)).toMatchObject({ peer: { uid: s.agent.uid }, session: Number(root) });
  });

  it('sessions: what CMD leaves behind is stopped when it exits, even a setsid orphan that ignores SIGTERM', async () => {
    const d = agentDir('leftover');
    const orphan = 'trap "" TERM HUP; echo $$ > "$D/pid"; read x < "$D/never"; cd "$GLOBEX"; "$NODE" "$BIN" exec len.show > "$D/late" 2>&1';
    const cmd = 'mkfifo "$D/pid" "$D/never"; ( setsid -f sh -c "$ORPHAN" </dev/null >/dev/null 2>&1 ); cat "$D/pid"';
    const r = await s.root$(['session', '--tenant', 'acme', '--user', 'outloop-agent', '--', 'sh', '-c', cmd], { env: orphanEnv(d, orphan) });
    expect(r.status).toBe(0);
    const pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(1);
    // root$ returns once the root has exited, and the root exits only after its tree is empty.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('sessions: an agent already running, registered with --pid, is bound from then on (wrong_tenant in globex\'s project); the registration ends when it exits; init or the daemon cannot be a root', async () => {
    const d = agentDir('registered');
    // The agent runs before any session; it asks only when told (through a fifo), after it is registered.
    const script = 'mkfifo "$D/go"; echo ready; read x < "$D/go"; cd "$GLOBEX"; "$NODE" "$BIN" exec len.show; echo " globex=$?"; cd "$ACME"; "$NODE" "$BIN" exec len.show; echo " acme=$?"';
    const agent = s.startAgent(['sh', '-c', script], { env: { ...orphanEnv(d, ''), ACME: s.projects.acme } });
    await waitFor(() => agent.stdout().includes('ready'));
    const reg = spawn(process.execPath, [join(s.pkg, 'bin/outloop.js'), 'session', '--tenant', 'acme', '--pid', String(agent.child.pid)], { env: { PATH: process.env.PATH, OUTLOOP_SOCKET: s.socket }, stdio: ['ignore', 'pipe', 'pipe'] });
    let regErr = '';
    reg.stderr.setEncoding('utf8').on('data', (x: string) => (regErr += x));
    const regExit = new Promise<number | null>((res) => reg.once('exit', (code) => res(code)));
    await waitFor(() => regErr.includes('are bound to tenant acme'));
    writeFileSync(join(d, 'go'), 'go\n');
    const r = await agent.done;
    expect(r.stdout).toContain('globex=77');
    expect(r.stderr).toContain('[wrong_tenant]');
    expect(r.stdout).toContain(`${ACME.length} <[REDACTED:TOKEN]> acme=0`);
    expect(s.audit().filter((x) => x.code === 'wrong_tenant').at(-1)).toMatchObject({ project: s.projects.globex, session: agent.child.pid });
    // The agent has exited: the registration ends by itself.
    expect(await regExit).toBe(0);
    for (const pid of ['1', String(s.daemon!.pid), '0', 'x', '99999999']) {
      const bad = await s.root$(['session', '--tenant', 'acme', '--pid', pid]);
      expect(bad.status, pid).toBe(64);
      expect(bad.stderr).toMatch(/--pid \S+: no such running process|is outloopd or one of its ancestors/);
    }
    // As the agent's uid: refused like any session start.
    expect((await s.agent$(['session', '--tenant', 'acme', '--pid', String(process.pid)])).status).toBe(77);
  });

  it('sessions: a process whose chain passes through a session root whose client has gone is denied session_ended, not bound by its folder', async () => {
    // A root that ends its session but lives on (as a crashed or half-exited client would): this script,
    // as root, registers a session, asks as the agent from globex's project, ends the session, asks again.
    const hello = encodeFrame({ t: 'hello', v: PROTOCOL_VERSION, argv: ['session', '--tenant', 'acme'], cwd: '/', env: {}, stdinTty: false }).toString('base64');
    const script = `
      import { connect } from 'node:net';
      import { spawn, spawnSync } from 'node:child_process';
      import { once } from 'node:events';
      const [socket, hello, bin, cwd, home] = process.argv.slice(1);
      const ask = () => spawnSync('setpriv', ['--reuid=outloop-agent', '--regid=outloop-agent', '--init-groups', '--', process.execPath, bin, 'exec', 'len.show', '--json'],
        { cwd, env: { PATH: process.env.PATH, OUTLOOP_SOCKET: socket, HOME: home }, encoding: 'utf8' }).stdout;
      const sock = connect(socket);
      sock.write(Buffer.from(hello, 'base64'));
      const [first] = await once(sock, 'data');
      const during = ask();
      sock.end();
      await once(sock, 'close');
      console.log(JSON.stringify({ first: first.toString('latin1'), during, after: ask() }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, s.socket, hello, join(s.pkg, 'bin/outloop.js'), s.projects.globex!, s.agent.home], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    const out = JSON.parse(r.stdout) as { first: string; during: string; after: string };
    expect(out.first).toContain('"t":"session"');
    expect(JSON.parse(out.during)).toMatchObject({ ok: false, code: 'wrong_tenant' });
    expect(JSON.parse(out.after)).toMatchObject({ ok: false, code: 'session_ended' });
    expect(out.after).not.toContain(String(GLOBEX.length));
    expect(s.audit().filter((x) => x.code === 'session_ended').at(-1)).toMatchObject({ decision: 'deny', tenant: 'acme', peer: { uid: s.agent.uid } });
    // Once the root is gone the record goes with it: outside any session the folder decides again.
    expect((await s.agent$(['exec', 'len.show'], { cwd: s.projects.globex })).stdout).toBe(`${GLOBEX.length} <[REDACTED:TOKEN]>`);
  });

  it('doctor names the mode and passes each system check; the MCP server works as a client (real MCP SDK client)', async () => {
    // A record first, so the chain's key exists (it is made with the first record).
    expect((await s.agent$(['exec', 'len.show'])).status).toBe(0);
    const d = await s.agent$(['doctor', '--json']);
    const report = JSON.parse(d.stdout) as { mode: string; findings: { section: string; check: string; severity: string }[] };
    expect(report.mode).toBe('system');
    const mode = report.findings.filter((f) => f.section === 'mode');
    for (const c of ['daemon-user', 'caller', 'config', 'state', 'audit', 'core-dumps', 'audit-chain']) expect(mode.find((f) => f.check === c), c).toMatchObject({ severity: 'ok' });
    // The chain's key readable by the group: doctor says the chain is no longer the daemon's alone.
    const key = join(s.prefix, 'var/lib/outloop/audit.key');
    chmodSync(key, 0o640);
    try {
      const loose = JSON.parse((await s.agent$(['doctor', '--json'])).stdout) as typeof report;
      expect(loose.findings.find((f) => f.section === 'mode' && f.check === 'audit-chain')).toMatchObject({ severity: 'fail' });
    } finally {
      chmodSync(key, 0o600);
    }

    const mcp = await mcpCall(s, [process.execPath, join(s.pkg, 'bin/outloop.js')], 'len_show');
    expect(mcp.tools).toContain('len_show');
    expect(mcp.result).toContain('[REDACTED:TOKEN]');
    expect(mcp.result).not.toContain(ACME);
    expect(s.audit().filter((x) => x.mode === 'mcp' && x.phase === 'end').at(-1)).toMatchObject({ tenant: 'acme', recipe: 'show' });
  });

  it('init --agent writes the agent\'s MCP entry for system mode, as the person, and no config', async () => {
    const r = await s.agent$(['init', '--agent', 'claude-code']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('System mode');
    expect(r.stdout).toContain('sudo outloop session --tenant TENANT -- claude');
    expect(r.stdout).toContain(`OUTLOOP_SOCKET=${s.socket}`);
    // outloop is not on the agent's PATH here, so the launcher is written by absolute path (as in personal mode).
    const entry = JSON.parse(readFileSync(join(s.projects.acme!, '.mcp.json'), 'utf8')).mcpServers.outloop;
    expect(entry.command).toMatch(/^\/.*node$/);
    expect(entry.args).toEqual([expect.stringMatching(/\/bin\/outloop\.js$/), 'mcp']);
    expect(r.stderr).toContain('outloop is not on PATH');
    expect(readFileSync(join(s.prefix, 'etc/outloop/config.yaml'), 'utf8')).toContain('len:');
  });

  it('bad input on the socket: malformed, oversized, wrong version; the daemon keeps serving', async () => {
    const talk = (bytes: Buffer[]) => new Promise<{ frames: unknown[]; closed: boolean }>((res) => {
      const c = connect(s.socket);
      const dec = new FrameDecoder();
      const frames: unknown[] = [];
      c.on('data', (d) => frames.push(...dec.push(d)));
      c.on('close', () => res({ frames, closed: true }));
      c.on('error', () => {});
      for (const b of bytes) c.write(b);
    });
    const head = (n: number) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(n, 0);
      return h;
    };
    const bad = await talk([head(5), Buffer.from('{nope')]);
    expect(bad.frames).toEqual([expect.objectContaining({ t: 'error', code: 'bad_frame' })]);
    const big = await talk([head(MAX_FRAME + 1), Buffer.alloc(1024)]);
    expect(big.frames).toEqual([expect.objectContaining({ t: 'error', code: 'frame_too_large' })]);
    const ver = await talk([encodeFrame({ t: 'hello', v: PROTOCOL_VERSION + 1, argv: [], cwd: '/', env: {} })]);
    expect(ver.frames).toEqual([expect.objectContaining({ t: 'error', code: 'version_mismatch', exit: 69 })]);
    expect((await s.agent$(['exec', 'len.show'])).status).toBe(0);
  });

  it('a client that stalls mid-frame is dropped after the stall limit while others are served', async () => {
    const c = connect(s.socket);
    c.on('error', () => {});
    const closed = new Promise<unknown[]>((res) => {
      const dec = new FrameDecoder();
      const frames: unknown[] = [];
      c.on('data', (d) => frames.push(...dec.push(d)));
      c.on('close', () => res(frames));
    });
    c.write(encodeFrame({ t: 'hello', v: PROTOCOL_VERSION, argv: ['exec', 'len.show'], cwd: s.projects.acme!, env: {} }).subarray(0, 10));
    expect((await s.agent$(['check', 'len.show'])).status).toBe(0);
    expect(await closed).toEqual([expect.objectContaining({ code: 'stalled' })]);
  }, 20_000);

  it('64 concurrent clients are all answered (more than run at once: the rest wait their turn)', async () => {
    const one = () => new Promise<{ code?: number; out: string }>((res) => {
      const c = connect(s.socket);
      const dec = new FrameDecoder();
      let out = '';
      c.on('data', (d) => {
        for (const f of dec.push(d) as { t: string; d?: string; code?: number }[]) {
          if (f.t === 'out') out += Buffer.from(f.d!, 'base64').toString();
          if (f.t === 'exit') res({ code: f.code, out });
        }
      });
      c.on('close', () => res({ out }));
      c.write(encodeFrame({ t: 'hello', v: PROTOCOL_VERSION, argv: ['check', 'len.show', '--json'], cwd: s.projects.acme!, env: {}, stdinTty: false }));
    });
    const all = await Promise.all(Array.from({ length: 64 }, one));
    expect(all.map((r) => r.code)).toEqual(Array(64).fill(0));
    for (const r of all) expect(JSON.parse(r.out).decision).toBe('allow');
  }, 120_000);

  it('a daemon restart during a request: the client exits 69 with a clear message; the chain still verifies', async () => {
    const run = s.startAgent([process.execPath, join(s.pkg, 'bin/outloop.js'), 'exec', 'len.hold']);
    await waitFor(() => run.stdout().includes('started'));
    expect(await s.stopDaemon()).toBe(0);
    const r = await run.done;
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('[daemon_unavailable]');
    expect(r.stderr).toContain('went away');
    expect(heldChildren()).toEqual([]);
    // No daemon: no fall back to personal mode.
    const none = await s.agent$(['exec', 'len.show']);
    expect(none.status).toBe(69);
    expect(none.stderr).toContain('cannot reach the outloop daemon');
    await s.startDaemon();
    const v = await s.agent$(['audit', 'verify']);
    expect(v.status, v.stdout + v.stderr).toBe(0);
  }, 40_000);

  it('started without LimitCORE=0 (ulimit -c unlimited), the daemon, its workers and their children still dump no core', async () => {
    await s.stopDaemon();
    await s.startDaemon({ coreLimit: 'unlimited' });
    const coreLimit = (pid: number) => /^Max core file size\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.slice(1, 3);
    // setpriv and the shell exec outloopd: the daemon is the started process itself.
    const daemon = s.daemon!.pid!;
    expect(readFileSync(`/proc/${daemon}/cmdline`, 'utf8')).toContain('outloopd');
    expect(coreLimit(daemon)).toEqual(['0', '0']);
    const workers = readFileSync(`/proc/${daemon}/task/${daemon}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) expect(coreLimit(w)).toEqual(['0', '0']);
    const r = await s.agent$(['exec', 'len.core']);
    expect(r).toMatchObject({ status: 0, stdout: '0\n' });
  }, 40_000);
});
