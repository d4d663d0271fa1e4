import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, configYaml, type E2E, makeE2E, plantedSecret, startApi, until } from '../e2e/helpers.js';
import { findExecutable } from '../../src/runner/which.js';
import { BIN } from '../helpers/cli.js';
import { pidsWith, requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * The sandbox end to end, through the built CLI with real bwrap, real curl and a real node child: the
 * child reaches its service's host and nothing else, sees nothing of the machine, and does not outlive
 * outloop. The child's requests live in a SCRIPT beside the recipe, so the argv host gate cannot see
 * them: only the sandbox and the proxy stand between the script and the other port.
 */
const TOKEN = 'sandbox-e2e-token-5b1f0c9d8e7a6b5c';

describe.skipIf(skipWithoutBwrap)('sandbox (bubblewrap) and egress proxy', () => {
  let e: E2E;
  let api: Api;
  let other: Server;
  let otherPort: number;
  const otherHits: string[] = [];
  let homeSecret: string;
  let storeSecret: string;
  let projectSecret: string;

  beforeAll(async () => {
    requireBwrap();
    e = makeE2E(['acme']);
    api = await startApi([TOKEN]);
    other = createServer((req, res) => {
      otherHits.push(req.url ?? '');
      res.end('other server reached\n');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherPort = (other.address() as { port: number }).port;

    // Planted where an unsandboxed child could read them: the real home, outloop's own home, the project.
    homeSecret = plantedSecret('home');
    storeSecret = plantedSecret('store');
    projectSecret = plantedSecret('dotenv');
    mkdirSync(join(e.env.HOME!, '.ssh'), { recursive: true });
    writeFileSync(join(e.env.HOME!, '.ssh', 'id_ed25519'), homeSecret);
    writeFileSync(join(e.home, 'planted.txt'), storeSecret);
    writeFileSync(join(e.projects.acme!, '.env'), `API_KEY=${projectSecret}\n`);

    const dir = join(e.home, 'recipes');
    writeFileSync(
      join(dir, 'probe.sh'),
      [
        'code() { curl -sS -o /dev/null -w "%{http_code}" "$@" 2>/dev/null; }',
        `echo "allowed=$(curl -sS -K - http://127.0.0.1:${api.port}/v1/x?limit=3)"`,
        `echo "other=$(code http://127.0.0.1:${otherPort}/via-proxy)"`,
        `echo "direct=$(code --noproxy '*' http://127.0.0.1:${otherPort}/direct)"`,
        `node -e 'const s=require("net").connect(${otherPort},"127.0.0.1");s.on("connect",()=>{console.log("raw=connected");s.destroy()});s.on("error",e=>console.log("raw="+e.code))'`,
        // Raw, non-HTTP bytes at the proxy port itself: refused and on record.
        `node -e 'const u=new URL(process.env.HTTP_PROXY);const s=require("net").connect(+u.port,u.hostname);s.on("data",d=>{console.log("rawproxy="+String(d).split("\\r\\n")[0]);s.destroy()});s.write("SSH-2.0-x\\r\\n\\r\\n")'`,
        `for f in "${join(e.env.HOME!, '.ssh', 'id_ed25519')}" "${join(e.home, 'planted.txt')}" "${join(e.home, 'store.json')}" "${join(e.projects.acme!, '.env')}"; do if cat "$f" >/dev/null 2>&1; then echo "read=$f"; else echo "hidden=$f"; fi; done`,
        'ls -d /root /work /home 2>/dev/null | sed "s/^/visible=/"',
        'test -e /run/user && echo visible=/run/user',
        'echo "pid1=$(cat /proc/1/comm)"',
        'echo "home=$HOME"',
      ].join('\n'),
    );
    e.writeRecipe(
      'box',
      `service: box
hosts: ["127.0.0.1:${api.port}"]
secrets: [TOKEN]
recipes:
  probe:
    description: a script that tries the allowed host and everything else
    risk: read
    run: [sh, "{{recipe.dir}}/probe.sh"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    timeout: 20s
  hold:
    description: waits until killed
    risk: read
    run: [sh, -c, 'echo ready; while :; do sleep 0.1; done', "outloop-hold-marker-{{params.tag}}"]
    params:
      tag: { type: string, pattern: "[a-z0-9]+" }
    timeout: 30s
  stubborn:
    description: ignores SIGTERM, outlives its timeout
    risk: read
    run: [sh, -c, 'trap "" TERM; echo ready; while :; do sleep 0.1; done', "outloop-stubborn-marker-{{params.tag}}"]
    params:
      tag: { type: string, pattern: "[a-z0-9]+" }
    timeout: 1s
  flood:
    description: writes without end
    risk: read
    run: [sh, -c, 'while :; do echo outloop-flood-line-0123456789; done']
    maxOutput: 64KiB
    timeout: 20s
  memory:
    description: shows its address-space limit
    risk: read
    run: [sh, -c, 'ulimit -v']
    maxMemory: 256MiB
  core:
    description: shows its core-dump limits, soft and hard
    risk: read
    run: [sh, -c, 'ulimit -c; ulimit -Hc']
  project:
    description: reads a file of the project it declares
    risk: read
    run: [sh, -c, 'cat "$1/.env" | wc -c; touch "$1/written" 2>/dev/null && echo wrote || echo read-only', sh, "{{project}}"]
    sandbox: { paths: [{ path: "{{project}}", mode: ro }] }
`,
    );
    e.writeConfig(configYaml(e, { acme: 'box:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]' }));
    await e.setSecret('local:acme/token', TOKEN);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    other?.close();
    e?.cleanup();
  });

  it('the allowed host answers; another port, a direct connection and raw TCP do not; everything is on record', async () => {
    const r = await e.cli(['exec', 'box.probe']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(JSON.parse(out.allowed!)).toMatchObject({ object: 'list', limit: '3' });
    expect(r.stdout).toContain('[REDACTED:TOKEN]');
    expect(out.other).toBe('403');
    expect(out.direct).toBe('000');
    expect(out.raw).toBe('ECONNREFUSED');
    expect(out.rawproxy).toBe('HTTP/1.1 400 Bad Request');
    expect(otherHits).toEqual([]);
    expect(api.seen.map((s) => s.url)).toEqual(['/v1/x?limit=3']);

    const end = e.audit().filter((a) => a.recipe === 'probe' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ decision: 'allow', exitCode: 0, sandbox: 'bwrap', sandboxMode: 'auto', egressEnforced: true });
    expect(end.egress).toEqual([
      expect.objectContaining({ host: '127.0.0.1', port: api.port, ip: '127.0.0.1', decision: 'allow' }),
      expect.objectContaining({ host: '127.0.0.1', port: otherPort, decision: 'deny', reason: `not in hosts of box.probe: 127.0.0.1:${api.port}` }),
      expect.objectContaining({ host: '?', decision: 'deny', reason: 'not an HTTP proxy request' }),
    ]);
    const allowed = (end.egress as { bytesIn: number; bytesOut: number }[])[0]!;
    expect(allowed.bytesIn).toBeGreaterThan(0);
    expect(allowed.bytesOut).toBeGreaterThan(0);
  });

  it('the child sees nothing of the machine: not the real home, not $OUTLOOP_HOME, not the project, no /root, /work, /run/user', async () => {
    const r = await e.cli(['exec', 'box.probe']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/^read=/m);
    expect(r.stdout.match(/^hidden=/gm)).toHaveLength(4);
    expect(r.stdout).not.toMatch(/^visible=/m);
    expect(r.stdout).toMatch(/^pid1=bwrap$/m);
    for (const s of [homeSecret, storeSecret, projectSecret, TOKEN]) {
      expect(r.stdout + r.stderr).not.toContain(s);
      expect(JSON.stringify(e.audit())).not.toContain(s);
    }
  });

  it('a declared path is visible with its mode (read-only here), and nothing else of the project changes', async () => {
    const r = await e.cli(['exec', 'box.project']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${`API_KEY=${projectSecret}\n`.length}\nread-only\n`);
  });

  it('killing outloop with SIGKILL leaves no sandboxed process running', async () => {
    const tag = `k${Date.now()}`;
    const marker = `outloop-hold-marker-${tag}`;
    const s = e.start(['exec', 'box.hold', '-p', `tag=${tag}`]);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    expect(pidsWith(marker).length).toBeGreaterThan(0);
    s.child.kill('SIGKILL');
    await s.done;
    await until(() => pidsWith(marker).length === 0, 'the sandboxed child to be gone', 5000);
    expect(pidsWith(marker)).toEqual([]);
  });

  it('Ctrl-C (SIGINT) reaches the sandboxed child and outloop exits with its status', async () => {
    const tag = `i${Date.now()}`;
    const s = e.start(['exec', 'box.hold', '-p', `tag=${tag}`]);
    await until(() => s.stdout().includes('ready'), 'the child to be ready');
    s.child.kill('SIGINT');
    const r = await s.done;
    expect(r.status).toBe(130);
    await until(() => pidsWith(`outloop-hold-marker-${tag}`).length === 0, 'the child to be gone', 5000);
  });

  it('a timeout ends a sandboxed child that ignores SIGTERM: 124, and nothing of it is left', async () => {
    const tag = `t${Date.now()}`;
    const r = await e.cli(['exec', 'box.stubborn', '-p', `tag=${tag}`]);
    expect(r.status).toBe(124);
    expect(r.ms).toBeLessThan(10_000);
    await until(() => pidsWith(`outloop-stubborn-marker-${tag}`).length === 0, 'the stubborn child to be gone', 5000);
  });

  it('maxOutput: the child is stopped, the output cut at the limit and marked truncated', async () => {
    const r = await e.cli(['exec', 'box.flood', '--json']);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ ok: false, truncated: true, exitCode: 137 });
    expect(Buffer.byteLength(env.stdout)).toBe(64 * 1024);
    const end = e.audit().filter((a) => a.recipe === 'flood' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ truncated: true, exitCode: 137 });
    const streamed = await e.cli(['exec', 'box.flood']);
    expect(streamed.stdout.length).toBe(64 * 1024);
    expect(streamed.stderr).toContain('box.flood wrote more than 65536 bytes (maxOutput); the child was stopped and its output truncated.');
  });

  it('maxMemory sets the child\'s address-space limit', async () => {
    const r = await e.cli(['exec', 'box.memory']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(String(256 * 1024));
  });

  it('core dumps are off in the sandboxed child, soft and hard, even when outloop was started with them on', () => {
    // Raised first, so the limit the child reports is outloop's doing (the wrapper runs only then).
    const r = spawnSync('sh', ['-c', 'ulimit -c unlimited && exec "$@"', 'sh', process.execPath, BIN, 'exec', 'box.core'], { cwd: e.projects.acme, env: e.env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('0\n0\n');
  });

  it('PATH can neither hide bwrap nor swap in a fake one: the child is still sandboxed', async () => {
    const bin = join(e.root, 'bin-with-fake-bwrap');
    mkdirSync(bin, { recursive: true });
    for (const t of ['sh', 'curl', 'env']) symlinkSync(findExecutable(t, process.env.PATH, '/')!, join(bin, t));
    symlinkSync(process.execPath, join(bin, 'node'));
    // A "bwrap" that would run the child unconfined, and leave a mark if it were ever used.
    const mark = join(e.root, 'fake-bwrap-used');
    writeFileSync(join(bin, 'bwrap'), `#!/bin/sh\ntouch ${JSON.stringify(mark)}\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n`, { mode: 0o755 });
    chmodSync(bin, 0o777);
    const r = await e.cli(['exec', 'box.probe'], { env: { PATH: bin } });
    expect(r.status).toBe(0);
    expect(existsSync(mark)).toBe(false);
    expect(r.stdout).toContain('direct=000');
    expect(e.audit().at(-1)).toMatchObject({ recipe: 'probe', sandbox: 'bwrap', egressEnforced: true });
    // Without hosts (no forwarder) too.
    const m = await e.cli(['exec', 'box.memory'], { env: { PATH: bin } });
    expect(m.status).toBe(0);
    expect(existsSync(mark)).toBe(false);
    expect(e.audit().at(-1)).toMatchObject({ recipe: 'memory', sandbox: 'bwrap', egressEnforced: true });
  });
});
