import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
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
