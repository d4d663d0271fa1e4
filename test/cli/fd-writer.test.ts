import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox } from '../helpers/cli.js';
import { FdWriter } from '../../src/cli/fd-writer.js';

/**
 * exec writes its child's redacted output to descriptors 1 and 2 itself (src/cli/fd-writer.ts) instead of
 * through process.stdout. What node's stream would do on the rare paths must still happen: a descriptor
 * that cannot take a write now, a closed one, a reader that left.
 */
const dir = mkdtempSync(join(tmpdir(), 'outloop-fdw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const never = () => {
  throw new Error('node stream made without need');
};

describe('FdWriter', () => {
  it('writes bytes and strings in order, and calls back only after write() has returned', async () => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const w = new FdWriter(fd, never);
    let returned = false;
    const called = new Promise<void>((resolve) => {
      w.write(Buffer.from('one '), () => {
        expect(returned).toBe(true);
        resolve();
      });
      returned = true;
    });
    w.write('two ü\n');
    await called;
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('one two ü\n');
  });

  it('hands a write the descriptor refuses (EAGAIN: non-blocking and full) to the node stream, losing and reordering nothing', async () => {
    // The child reads nothing until it is told to on fd 3, so its stdin (a non-blocking socket: libuv's)
    // fills up and a synchronous write must stop part-way.
    const child = spawn('sh', ['-c', 'read go <&3; exec cat'], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
    const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    let made = 0;
    const w = new FdWriter(fd, () => (made++, child.stdin as unknown as NodeJS.WriteStream));
    const got: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => got.push(d));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
    const half = data.length / 2;
    w.write(data.subarray(0, half));
    expect(made).toBe(1);
    const written = new Promise<void>((resolve) => w.write(data.subarray(half), () => resolve()));
    (child.stdio[3] as Writable).end('go\n');
    await written;
    child.stdin!.end();
    await closed;
    expect(made).toBe(1);
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  it('hands a closed descriptor (EBADF) to the node stream', async () => {
    const fd = openSync(join(dir, 'closed'), 'w');
    closeSync(fd);
    const got: Buffer[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, cb) => (got.push(c), cb()) });
    const w = new FdWriter(fd, () => stream as unknown as NodeJS.WriteStream);
    await new Promise<void>((resolve) => w.write('lost?\n', () => resolve()));
    expect(Buffer.concat(got).toString()).toBe('lost?\n');
  });

  it('reports a reader that left (EPIPE) as an error, as node\'s stream does', async () => {
    // The child closes its end of its stdin, says so on fd 3, and waits to be killed.
    const child = spawn('sh', ['-c', 'exec 0<&-; echo closed >&3; exec sleep 60'], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => (child.stdio[3] as NodeJS.ReadableStream).once('data', () => resolve()));
    const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const w = new FdWriter(fd, () => child.stdin as unknown as NodeJS.WriteStream);
    const errors: string[] = [];
    w.on('error', (e: NodeJS.ErrnoException) => errors.push(`event ${e.code}`));
    await new Promise<void>((resolve) => w.write('nobody reads this\n', (e) => (errors.push(`callback ${(e as NodeJS.ErrnoException).code}`), resolve())));
    await new Promise<void>((resolve) => setImmediate(resolve));
    child.kill();
    expect(errors.sort()).toEqual(['callback EPIPE', 'event EPIPE']);
  });
});

describe('exec into a pipe whose reader has stalled', () => {
  // The child prints 4 MiB its reader does not take, then keeps running. exec's writes to its stdout
  // must not block its event loop: the recipe's 2 s timeout still stops the child (which notes the
  // SIGTERM in a file), as it did when node's stream wrote the output; a blocking write here held the
  // timer until the reader came back.
  it('still stops the child at the recipe timeout, and exits 124 once the reader takes the output', async () => {
    const sb = makeSandbox(['acme']);
    const marker = join(sb.root, 'stopped');
    try {
      sb.writeConfig(`tenants:\n  acme:\n    projects: [${JSON.stringify(sb.projects.acme)}]\n    services:\n      flood:\n        allow: ["*"]\n        sandbox: off\n`);
      const script = `trap 'touch ${marker}; exit 143' TERM; echo started >&2; head -c 4194304 /dev/zero; sleep 60 & wait`;
      sb.writeRecipe('flood', `service: flood\nhosts: []\nrecipes:\n  big:\n    description: a lot of output, then a long wait\n    risk: read\n    run: [sh, -c, ${JSON.stringify(script)}]\n    timeout: 2s\n    maxOutput: 16MiB\n`);
      const c = spawn(process.execPath, [BIN, 'exec', 'flood.big'], { cwd: sb.projects.acme, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout.pause();
      let err = '';
      await new Promise<void>((resolve) => c.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('started')) resolve();
      }));
      // The reader still takes nothing while the timeout stops the child.
      await expect.poll(() => existsSync(marker), { timeout: 15_000, interval: 50 }).toBe(true);
      let got = 0;
      c.stdout.on('data', (d: Buffer) => (got += d.length));
      c.stdout.resume();
      const code = await new Promise<number | null>((resolve) => c.on('close', (n) => resolve(n)));
      expect(code).toBe(124);
      expect(got).toBeGreaterThan(0);
      expect(err).toContain('timed out');
    } finally {
      sb.cleanup();
    }
  }, 30_000);
});
