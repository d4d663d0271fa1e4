import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME, parseHello, PASSED_ENV, PROTOCOL_VERSION } from '../../src/system/protocol.js';
import { VERSION } from '../../src/version.js';
import { sessionEnv } from '../../src/system/session.js';
import { CI, configYaml, lenRecipes, makeSystem, mcpCall, NATIVE_CLIENT, skipSystem, type Result, type SystemEnv } from './helpers.js';

// The native system-mode client (native/client/outloop.c) against the JavaScript one
// (src/system/client.ts): the same bytes on the socket and the same output, exit code and error words
// for every answer a daemon can give, good or bad. First against a scripted stub daemon, then as the
// agent's uid against a real outloopd.

const native = resolve(NATIVE_CLIENT);
const bin = resolve('bin/outloop.js');
const built = existsSync(native);
// npm ci builds it wherever a C compiler is; CI must not pass without it.
const skip = !built && !CI;

interface Got {
  result: Result;
  frames: Record<string, unknown>[];
}

type Script = (sock: Socket, frames: Record<string, unknown>[]) => void;

let dir: string;
let server: Server;
let script: Script = () => {};
let received: Record<string, unknown>[] = [];

/** One client run against the stub: `argv0` is the native client, or node with bin/outloop.js. */
function run(which: 'native' | 'node', args: string[], o: { input?: string | Buffer; stdinFd?: number; env?: NodeJS.ProcessEnv; cwd?: string; raw?: string } = {}): Promise<Got> {
  received = [];
  const frames = received;
  const env = { PATH: process.env.PATH, OUTLOOP_SOCKET: join(dir, 'stub.sock'), ...o.env };
  // Raw bytes in argv (invalid UTF-8) cannot pass through a JS string: a shell puts them in.
  const argv = o.raw !== undefined ? ['bash', '-c', `exec "$@" "$(printf '${o.raw}')"`, 'bash', ...(which === 'native' ? [native] : [process.execPath, bin]), ...args]
    : which === 'native' ? [native, ...args] : [process.execPath, bin, ...args];
  return new Promise((res, rej) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd ?? dir, env, stdio: [o.stdinFd ?? 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.on('error', () => {});
    child.stdin?.end(o.input ?? '');
    child.once('error', rej);
    child.once('close', (status) => res({ result: { status, stdout: Buffer.concat(out).toString('latin1'), stderr }, frames }));
  });
}

/** Both clients, one after the other, against the same script. */
async function both(args: string[], o: Parameters<typeof run>[2] = {}): Promise<[Got, Got]> {
  const a = await run('native', args, o);
  const b = await run('node', args, o);
  return [a, b];
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe.skipIf(skip)('the native client speaks the JavaScript client\'s protocol (stub daemon)', () => {
  beforeAll(async () => {
    if (!built) throw new Error(`${NATIVE_CLIENT} is not built (npm ci builds it with node-gyp; a C compiler is needed)`);
    dir = mkdtempSync(join(tmpdir(), 'outloop-native-'));
    server = createServer((sock) => {
      const dec = new FrameDecoder();
      const frames = received;
      sock.on('data', (d) => {
        const got = dec.push(d) as Record<string, unknown>[];
        frames.push(...got);
        if (got.length && frames.length === got.length) script(sock, frames);
        if (got.some((f) => f.t === 'stdin-end')) sock.emit('stdin-end');
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(join(dir, 'stub.sock'), r));
  });
  afterAll(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the same hello: argv (unicode, quotes, control characters, invalid UTF-8), cwd, the passed variables and no others', async () => {
    script = (sock) => sock.end(encodeFrame({ t: 'exit', code: 0 }));
    const args = ['exec', 'svc.r', '-p', 'q=ü "x" \\ \t\n\u0001 €😀', '--json'];
    const env = { OUTLOOP_TENANT: 'acme', NO_COLOR: '1', TERM: 'xterm-256color', COLUMNS: '91', FORCE_COLOR: '0', OUTLOOP_HOME: '/elsewhere', SECRET_LOOKING: 'x' };
    for (const raw of [undefined, '\\xff\\xc3(\\xed\\xa0\\x80a\\xf0\\x9f\\x98']) {
      const [n, j] = await both(args, { env, raw });
      expect(n.result.status).toBe(0);
      expect(j.result.status).toBe(0);
      const hello = parseHello(n.frames[0]);
      expect(n.frames[0]).toEqual(j.frames[0]);
      expect(hello).toMatchObject({ v: PROTOCOL_VERSION, cwd: dir, stdinTty: false });
      expect(Object.keys(hello.env).sort()).toEqual([...PASSED_ENV].sort());
      if (raw) expect(hello.argv.at(-1)).toBe('\ufffd\ufffd(\ufffd\ufffd\ufffda\ufffd');
    }
    // The constants the C file repeats are the protocol module's.
    const c = readFileSync(resolve('native/client/outloop.c'), 'utf8');
    expect(c).toContain(`#define PROTOCOL_VERSION ${PROTOCOL_VERSION}`);
    expect(MAX_FRAME).toBe(1 << 20);
    expect(c).toContain('#define MAX_FRAME (1u << 20)');
  });

  it('writes out and err frames byte for byte and exits with the exit frame\'s code', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = Buffer.alloc(700_000, 'x');
    script = (sock) => {
      sock.write(encodeFrame({ t: 'out', d: b64(all) }));
      sock.write(encodeFrame({ t: 'err', d: b64('warn: ünïcode\n') }));
      sock.write(Buffer.concat([encodeFrame({ t: 'session', tenant: 'x', extra: [1, { a: null }] }), encodeFrame({ t: 'out', d: b64(big) })]));
      // An exit frame split across writes, with fields in another order and an unknown one.
      const exit = encodeFrame({ extra: 'ignored', code: 3, t: 'exit' });
      sock.write(exit.subarray(0, 3));
      setImmediate(() => sock.end(exit.subarray(3)));
    };
    const [n, j] = await both(['exec', 'a.b']);
    expect(n.result).toEqual(j.result);
    expect(n.result.status).toBe(3);
    expect(Buffer.from(n.result.stdout, 'latin1')).toEqual(Buffer.concat([all, big]));
    expect(n.result.stderr).toBe('warn: ünïcode\n');
  });

  it('an error frame: the same words and exit code', async () => {
    script = (sock) => sock.end(encodeFrame({ t: 'error', code: 'version_mismatch', message: 'client speaks protocol 1, this daemon speaks 2 "quoted" \u00e9\ud83d\ude00', next: 'Use the outloop that matches this outloopd.', exit: 69 }));
    const [n, j] = await both(['check', 'a.b']);
    expect(n.result).toEqual(j.result);
    expect(n.result).toMatchObject({ status: 69, stderr: expect.stringContaining('[version_mismatch]\nnext: Use the outloop') });
  });

  it('relays stdin for the commands that read it, in frames under the limit, then stdin-end; none for the rest', async () => {
    const input = Buffer.alloc(600 * 1024 + 17, 'ab\n');
    script = (sock) => sock.once('stdin-end', () => sock.end(encodeFrame({ t: 'exit', code: 0 })));
    const n = await run('native', ['redact', '-q'], { input });
    expect(n.result.status).toBe(0);
    const pieces = n.frames.slice(1);
    expect(pieces.at(-1)).toEqual({ t: 'stdin-end' });
    const data = Buffer.concat(pieces.slice(0, -1).map((f) => Buffer.from(f.d as string, 'base64')));
    expect(data).toEqual(input);
    for (const f of pieces.slice(0, -1)) expect((f.d as string).length).toBeLessThan(MAX_FRAME);
    // exec reads no stdin: nothing follows the hello. Its stdin is a file, whose offset the client shares:
    // untouched after the run means not a byte of it was read, however late it would have been sent.
    script = (sock) => sock.end(encodeFrame({ t: 'exit', code: 0 }));
    const file = join(dir, 'exec-stdin');
    writeFileSync(file, 'not for the daemon');
    const fd = openSync(file, 'r');
    try {
      const e = await run('native', ['exec', 'a.b'], { stdinFd: fd });
      expect(e.result.status).toBe(0);
      expect(e.frames.map((f) => f.t)).toEqual(['hello']);
      const left = Buffer.alloc(64);
      expect(left.subarray(0, readSync(fd, left, 0, left.length, null)).toString()).toBe('not for the daemon');
    } finally {
      closeSync(fd);
    }
  });

  it('bad frames from the daemon: over the limit, not JSON, not an object with a type; the same refusal (69)', async () => {
    const head = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const bodies: Buffer[] = [head(MAX_FRAME + 1), Buffer.concat([head(5), Buffer.from('{"t":')]), Buffer.concat([head(2), Buffer.from('[]')]), Buffer.concat([head(8), Buffer.from('{"d":"x"}'.slice(0, 8))]), Buffer.concat([head(9), Buffer.from('{"t":"x"}')]).subarray(0, 13), Buffer.concat([head(7), Buffer.from('{"t":1}')])];
    for (const body of bodies) {
      script = (sock) => sock.end(body);
      const [n, j] = await both(['exec', 'a.b']);
      expect(n.result, body.toString('latin1')).toEqual(j.result);
      expect(n.result.status).toBe(69);
      expect(n.result.stderr).toContain('[daemon_unavailable]');
    }
  });

  it('no daemon, or one that hangs up: the same message and exit 69', async () => {
    script = (sock) => sock.end();
    const [n, j] = await both(['exec', 'a.b']);
    expect(n.result).toEqual(j.result);
    expect(n.result.stderr).toContain('went away before the request finished');
    for (const sock of [join(dir, 'nothing.sock'), join(dir)]) {
      const [a, b] = await both(['exec', 'a.b'], { env: { OUTLOOP_SOCKET: sock } });
      expect(a.result).toEqual(b.result);
      expect(a.result).toMatchObject({ status: 69, stderr: expect.stringContaining(`cannot reach the outloop daemon at ${sock}`) });
    }
  });

  it('hands what it does not do to the JavaScript CLI: --version, system, and personal mode without a socket', async () => {
    const v = await run('native', ['--version']);
    expect(v.result).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(v.frames).toEqual([]);
    const sys = await run('native', ['system', '--help']);
    const sysJs = await run('node', ['system', '--help']);
    expect(sys.result).toEqual(sysJs.result);
    expect(sys.frames).toEqual([]);
    if (!existsSync('/etc/outloop/system.json') && !existsSync('/run/outloop/broker.sock')) {
      const home = join(dir, 'home');
      const p = await run('native', ['check', 'a.b'], { env: { OUTLOOP_SOCKET: '', OUTLOOP_HOME: home } });
      const pj = await run('node', ['check', 'a.b'], { env: { OUTLOOP_SOCKET: '', OUTLOOP_HOME: home } });
      expect(p.result).toEqual(pj.result);
      expect(p.frames).toEqual([]);
    }
  });

  it('outloop session puts it first on the agent\'s PATH when it is built', () => {
    const env = sessionEnv({ PATH: '/usr/bin:/bin', HOME: '/h' }, resolve('.'));
    expect(env).toEqual({ PATH: `${resolve('native/client/build/Release')}:/usr/bin:/bin`, HOME: '/h' });
    expect(sessionEnv({ PATH: '/usr/bin' }, join(dir, 'no-package'))).toEqual({ PATH: '/usr/bin' });
  });
});

const ACME = 'acme-native-secret-7c1e93ab';
const RECIPE = lenRecipes(`  fail:
    description: exits 3 with a word on stderr
    run: [sh, -c, 'echo oops >&2; exit 3']
`);

describe.skipIf(skipSystem || skip)('the native client as the agent\'s uid against a real outloopd', () => {
  let s: SystemEnv;
  const ids = (r: Result) => ({ ...r, stdout: r.stdout.replace(/"(id|auditId|ts|at|durationMs)":("[^"]*"|\d+)/g, '"$1":_'), stderr: r.stderr });
  beforeAll(async () => {
    s = await makeSystem();
    s.writeRecipe('len', RECIPE);
    s.writeConfig(configYaml(s, { acme: 'len:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  run: true', globex: 'len:\n  allow: []' }));
    await s.startDaemon();
    expect((await s.root$(['secrets', 'set', 'local:acme/token'], { input: ACME })).status).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('exec, --json, a denial, an unknown recipe, a failing child, check, recipes list and redact: what the Node client prints', async () => {
    const nat = join(s.pkg, NATIVE_CLIENT);
    const cases: [string[], { input?: string; cwd?: string }][] = [
      [['exec', 'len.show'], {}],
      [['exec', 'len.show', '--json'], {}],
      [['exec', 'len.show'], { cwd: s.projects.globex }],
      [['exec', 'len.show', '--json'], { cwd: s.projects.globex }],
      [['exec', 'len.nope'], {}],
      [['exec', 'len.fail'], {}],
      [['check', 'len.show'], {}],
      [['recipes', 'list', '--json'], {}],
      [['redact', '-q'], { input: `a ${ACME} b\n` }],
    ];
    const statuses: (number | null)[] = [];
    for (const [args, o] of cases) {
      const a = await s.agentRaw([nat, ...args], o);
      const b = await s.agent$(args, o);
      expect(ids(a), args.join(' ')).toEqual(ids(b));
      expect(a.stdout + a.stderr).not.toContain(ACME);
      statuses.push(a.status);
    }
    expect(statuses).toEqual([0, 0, 77, 77, 64, 3, 0, 0, 0]);
    expect((await s.agentRaw([nat, 'exec', 'len.show'])).stdout).toBe(`${ACME.length} <[REDACTED:TOKEN]>`);
    // The daemon saw the native client's requests as the agent's, from the kernel.
    expect(s.audit().filter((x) => x.phase === 'end' && x.recipe === 'show' && x.decision === 'allow').at(-1)).toMatchObject({ peer: { uid: s.agent.uid } });
  });

  it('run and mcp: a wrapped script and a real MCP SDK client through the native client', async () => {
    const nat = join(s.pkg, NATIVE_CLIENT);
    const script = join(s.projects.acme!, 'wrapped.sh');
    writeFileSync(script, `#!/bin/sh\nread line\nprintf 'len=%s val=%s got=%s\\n' "\${#TOKEN}" "$TOKEN" "$line"\nexit 5\n`, { mode: 0o755 });
    chownSync(script, s.agent.uid, s.agent.gid);
    const args = ['run', '--service', 'len', '--', './wrapped.sh'];
    const a = await s.agentRaw([nat, ...args], { input: 'from stdin\n' });
    const b = await s.agent$(args, { input: 'from stdin\n' });
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 5, stdout: `len=${ACME.length} val=[REDACTED:TOKEN] got=from stdin\n` });

    const mcp = await mcpCall(s, [nat], 'len_show');
    expect(mcp.tools).toContain('len_show');
    expect(mcp.result).toContain('[REDACTED:TOKEN]');
    expect(mcp.result).not.toContain(ACME);
    expect(s.audit().filter((x) => x.mode === 'mcp' && x.phase === 'end').at(-1)).toMatchObject({ tenant: 'acme', recipe: 'show', peer: { uid: s.agent.uid } });
  });

  it('inside `outloop session`, `outloop` on PATH is the native client and works as the agent', async () => {
    const r = await s.root$(['session', '--tenant', 'acme', '--user', 'outloop-agent', '--', 'sh', '-c', `cd ${s.projects.acme} && command -v outloop && outloop exec len.show`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${join(s.pkg, NATIVE_CLIENT)}\n${ACME.length} <[REDACTED:TOKEN]>`);
    expect(r.status).toBe(0);
  });
});
