import { spawn as nodeSpawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { constants as osConstants, tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeSpawnAvailable, spawnNative, type ChildOutput, type NativeLaunch } from '../../src/runner/native-spawn.js';
import { runChild } from '../../src/runner/spawn.js';

/**
 * native/spawn starts every exec's child on Linux. What node's spawn and the shell wrappers used to give
 * the child must hold for it exactly: its signals, core limit, session, descriptors, environment and
 * folder, and node's errors. The parity block runs the runner's own cases through both spawners.
 */
const linux = process.platform === 'linux';

function collect(s: ChildOutput): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    s.on('error', reject);
  });
}

const base: NativeLaunch = { file: '/bin/sh', argv: ['/bin/sh', '-c', 'true'], env: { PATH: '/usr/bin:/bin' }, cwd: '/', stdin: 'ignore', ignore: [], dieWithParent: false };

async function run(l: Partial<NativeLaunch> & { script: string }, input?: string) {
  const c = spawnNative({ ...base, ...l, argv: ['/bin/sh', '-c', l.script] });
  if (input !== undefined) c.stdin!.end(input);
  const [out, err, exit] = await Promise.all([collect(c.stdout), collect(c.stderr), c.exited]);
  return { pid: c.pid!, out, err, ...exit };
}

/** The signal mask of a /proc/<pid>/status line (SigIgn, SigBlk) as the set of signal names in it. */
function signalsIn(status: string, field: string): string[] {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]!;
  const bits = BigInt(`0x${hex}`);
  return Object.entries(osConstants.signals)
    .filter(([, n]) => (bits >> BigInt(n - 1)) & 1n)
    .map(([name]) => name)
    .sort();
}

describe.runIf(linux)('native/spawn', () => {
  it('is built and used here (CI builds it in npm ci)', () => {
    expect(nativeSpawnAvailable()).toBe(true);
  });

  it('stdout, stderr and stdin are the child\'s own pipes; the exit code comes back', async () => {
    const r = await run({ script: 'read line; echo "out:$line"; echo err >&2; exit 7', stdin: 'pipe' }, 'hello\n');
    expect(r).toMatchObject({ out: 'out:hello\n', err: 'err\n', code: 7, signal: null });
  });

  it('a child killed by a signal reports the signal, not a code', async () => {
    const r = await run({ script: 'kill -TERM $$' });
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('starts with the listed signals ignored, every other at its default, none blocked', async () => {
    // node itself ignores SIGPIPE, and a child inherits what is ignored: without the reset, SIGPIPE would show here.
    const plain = await run({ script: 'cat /proc/self/status' });
    expect(signalsIn(plain.out, 'SigIgn')).toEqual([]);
    expect(signalsIn(plain.out, 'SigBlk')).toEqual([]);
    const shielded = await run({ script: 'cat /proc/self/status', ignore: ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGPIPE'] });
    expect(signalsIn(shielded.out, 'SigIgn')).toEqual(['SIGHUP', 'SIGINT', 'SIGPIPE', 'SIGQUIT', 'SIGTERM']);
    expect(signalsIn(shielded.out, 'SigBlk')).toEqual([]);
  });

  it('core dumps are off, the hard limit too, so the child cannot raise its own', async () => {
    const r = await run({ script: 'grep "Max core file size" /proc/self/limits' });
    expect(r.out.split(/\s+/).slice(4, 6)).toEqual(['0', '0']);
  });

  it('leads a new session and process group of its own', async () => {
    const r = await run({ script: 'cut -d" " -f5,6 /proc/$$/stat' });
    expect(r.out.trim()).toBe(`${r.pid} ${r.pid}`);
  });

  it('gets no descriptor beyond 0, 1 and 2, not even one inherited without close-on-exec', async () => {
    const r = await run({ script: 'ls /proc/$$/fd' });
    expect(r.out.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });

  it('gets exactly the environment and folder it is given', async () => {
    const r = await run({ script: 'env; pwd', env: { A: 'one two', B: '' }, cwd: '/tmp' });
    expect(r.out.split('\n').filter((l) => l && !l.startsWith('PWD=')).sort()).toEqual(['/tmp', 'A=one two', 'B=']);
  });

  it('fails as node\'s spawn does: `spawn <file> ENOENT`, for a missing program and for a missing folder', () => {
    for (const l of [{ file: '/nonexistent/prog' }, { cwd: '/nonexistent-folder' }]) {
      let err: (Error & { code?: string; errno?: number }) | undefined;
      try {
        spawnNative({ ...base, ...l });
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.message).toBe(`spawn ${l.file ?? '/bin/sh'} ENOENT`);
      expect(err).toMatchObject({ code: 'ENOENT', errno: -2 });
    }
  });

  it('runs a script without a #! line with /bin/sh, as a shell or execvp would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outloop-noshebang-'));
    const script = join(dir, 'deploy.sh');
    writeFileSync(script, 'echo "ran as a shell script: $1"\n', { mode: 0o755 });
    try {
      const c = spawnNative({ ...base, file: script, argv: [script, 'arg'] });
      const [out, exit] = await Promise.all([collect(c.stdout), c.exited, collect(c.stderr)]);
      expect(out).toBe('ran as a shell script: arg\n');
      expect(exit.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds a 240 KiB burst for a reader that takes nothing, as node\'s socket pairs did, so the child exits', async () => {
    // A 64 KiB pipe plus node's own buffer holds at most 128 KiB: without the larger pipe, head blocks
    // until `timeout` ends it (124). Nothing reads stdout until the child has exited.
    const c = spawnNative({ ...base, file: '/usr/bin/timeout', argv: ['/usr/bin/timeout', '5', 'head', '-c', String(240 * 1024), '/dev/zero'] });
    const err = collect(c.stderr);
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect((await collect(c.stdout)).length).toBe(240 * 1024);
    expect(await err).toBe('');
  });

  it('a paused output pipe is not read: the child blocks writing until resume, then everything arrives', async () => {
    const size = 1024 * 1024;
    const c = spawnNative({ ...base, file: '/usr/bin/head', argv: ['/usr/bin/head', '-c', String(size), '/dev/zero'] });
    let got = 0;
    c.stdout.on('data', (d: Buffer) => (got += d.length));
    c.stdout.pause();
    const ended = new Promise((resolve) => c.stdout.once('end', resolve));
    const err = collect(c.stderr);
    // The kernel says where the child sleeps: in pipe_write, with the 256 KiB pipe full and nothing read.
    await expect.poll(() => readFileSync(`/proc/${c.pid}/wchan`, 'utf8'), { timeout: 10_000 }).toMatch(/pipe_write$/);
    // A few turns of the event loop, each with a poll for I/O: a pipe being read would deliver now.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(got).toBe(0);
    c.stdout.resume();
    await ended;
    expect(got).toBe(size);
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(await err).toBe('');
  });

  it('destroy() closes our end: the child writing into it dies of SIGPIPE, and the reader emits close, not end', async () => {
    const c = spawnNative({ ...base, argv: ['/bin/sh', '-c', 'read x; echo after'], stdin: 'pipe' });
    const events: string[] = [];
    c.stdout.on('data', () => events.push('data'));
    c.stdout.on('end', () => events.push('end'));
    const closed = new Promise((resolve) => c.stdout.once('close', resolve));
    c.stderr.resume();
    c.stdout.destroy();
    await closed;
    // Only now may the child write: our end is closed, as for `outloop exec x | head -0`.
    c.stdin!.end('go\n');
    expect(await c.exited).toEqual({ code: null, signal: 'SIGPIPE' });
    expect(events).toEqual([]);
  });

  it('refuses a NUL byte in an argument rather than cutting it there', () => {
    expect(() => spawnNative({ ...base, argv: ['/bin/sh', '-c', 'echo a\0b'] })).toThrow(/without NUL bytes/);
  });

  it('dieWithParent: the child is killed when the process that started it dies, even by SIGKILL', async () => {
    // A node process starts `sleep` through the addon (flags: no core, death signal, new session),
    // prints its pid, and is then killed.
    const addon = new URL('../../native/spawn/build/Release/spawn.node', import.meta.url).pathname;
    const src = `const a = require(${JSON.stringify(addon)});
      const [pid] = a.spawn('/bin/sleep', ['/bin/sleep', '60'], [], '/', [-2, -2, -2], [], 1 | 2 | 4, () => {});
      console.log(pid);`;
    const parent = nodeSpawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(String(d)))));
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).not.toThrow();
    const gone = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await gone;
    // The kernel sends the death signal as the parent exits; the sleep is then reaped by init.
    await expect.poll(() => { try { process.kill(pid, 0); return 'alive'; } catch { return 'gone'; } }, { timeout: 5000 }).toBe('gone');
  });
});

/** The runner's cases, through node's child_process and through native/spawn. */
describe.each(linux ? ['native', 'node'] : ['node'])('runChild through %s spawn', (which) => {
  const before = process.env.OUTLOOP_NATIVE_SPAWN;
  afterEach(() => {
    if (before === undefined) delete process.env.OUTLOOP_NATIVE_SPAWN;
    else process.env.OUTLOOP_NATIVE_SPAWN = before;
  });
  const go = (argv: string[], extra: { stdin?: string; timeoutMs?: number } = {}) => {
    process.env.OUTLOOP_NATIVE_SPAWN = which === 'native' ? '1' : '0';
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    const done = runChild({ argv, env: { PATH: '/usr/bin:/bin' }, cwd: '/', stdin: extra.stdin, timeoutMs: extra.timeoutMs ?? 10_000 }, { stdout, stderr });
    return done.then(async (r) => {
      stdout.end();
      stderr.end();
      return { ...r, out: await out, err: await err };
    });
  };

  it('passes stdin, output and the exit code', async () => {
    const r = await go(['/bin/sh', '-c', 'cat; echo done >&2; exit 4'], { stdin: 'typed' });
    expect(r).toMatchObject({ exitCode: 4, out: 'typed', err: 'done\n', timedOut: false });
  });

  it('a bare command name is found on the child\'s PATH', async () => {
    const r = await go(['echo', 'found']);
    expect(r).toMatchObject({ exitCode: 0, out: 'found\n' });
  });

  it('128+N for a child killed by signal N', async () => {
    const r = await go(['/bin/sh', '-c', 'kill -KILL $$']);
    expect(r.exitCode).toBe(128 + 9);
  });

  it('the timeout ends the child: 124', async () => {
    const r = await go(['/bin/sleep', '30'], { timeoutMs: 200 });
    expect(r).toMatchObject({ exitCode: 124, timedOut: true });
  });

});
