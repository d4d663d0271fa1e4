import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOLED, PooledWriter } from '../../src/sandbox/pooled-writer.js';
import { testCa } from './helpers.js';

/**
 * The byte relay's writer (src/sandbox/pooled-writer.ts): pieces that wait behind a write in flight are
 * joined into one reused buffer, so node's TLS socket gets one buffer per write. Order and every byte
 * must survive, the end must come after what is queued, and a buffer that held a request is zeroed.
 */
let dir: string;
let server: Server;
let port: number;
let ca: string;
/** What the far side read on each connection, resolved at its end. */
const received: Promise<Buffer>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-pooled-'));
  const c = testCa(dir, 'pooled');
  ca = readFileSync(c.caFile, 'utf8');
  server = createServer(c.leaf(['127.0.0.1']), (s) => {
    const parts: Buffer[] = [];
    received.push(new Promise((resolve) => {
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => {
        resolve(Buffer.concat(parts));
        s.end();
      });
    }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<{ s: TLSSocket; writes: Buffer[]; got: () => Promise<Buffer> }> {
  const n = received.length;
  const s = connect({ port, host: '127.0.0.1', ca });
  await new Promise<void>((r, j) => s.once('secureConnect', () => r()).once('error', j));
  await expect.poll(() => received.length).toBe(n + 1);
  // Each buffer node's socket is given, as given (the writer may reuse its memory afterwards).
  const writes: Buffer[] = [];
  const write = s.write.bind(s) as (b: Buffer, cb?: () => void) => boolean;
  (s as unknown as { write: typeof write }).write = (b, cb) => (writes.push(b), write(b, cb));
  return { s, writes, got: () => received[n]! };
}

const pattern = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

describe('PooledWriter', () => {
  it('joins what waits behind a write in flight into few writes, every byte in order, then ends after it', async () => {
    const { s, writes, got } = await client();
    const w = new PooledWriter(s, false, 8 * 1024 * 1024);
    const pieces = Array.from({ length: 96 }, (_, i) => pattern(16 * 1024 + (i % 7), i));
    for (const p of pieces) w.write([Buffer.from('-'), p]);
    w.end('last');
    const all = Buffer.concat([...pieces.flatMap((p) => [Buffer.from('-'), p]), Buffer.from('last')]);
    expect((await got()).equals(all)).toBe(true);
    // 1.5 MiB in 192 pieces: the first piece alone, then joins of up to POOLED bytes.
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(all.length / (POOLED - 32 * 1024)) + 2);
    expect(writes.every((b) => b.length <= POOLED)).toBe(true);
  });

  it('says to wait once it is `ahead` bytes ahead, and calls back once it is under half', async () => {
    const { s, got } = await client();
    const w = new PooledWriter(s, false, 64 * 1024);
    expect(w.write([pattern(40 * 1024, 1)])).toBe(true);
    expect(w.write([pattern(40 * 1024, 2)])).toBe(false);
    await new Promise<void>((resolve) => w.onDrain(resolve));
    expect(w.pending).toBeLessThan(32 * 1024);
    w.end();
    expect((await got()).length).toBe(80 * 1024);
  });

  it('zeroes a joined buffer that held a request before it is used again', async () => {
    const { s, writes, got } = await client();
    const w = new PooledWriter(s, true, 8 * 1024 * 1024);
    const secret = Buffer.from('Authorization: Bearer real-value-0123456789\r\n');
    w.write([pattern(64 * 1024, 3)]);
    w.write([secret, pattern(64 * 1024, 4)]);
    w.end();
    await got();
    // The second write was joined (it waited behind the first): the request went out whole...
    const joined = writes.find((b) => b.length === secret.length + 64 * 1024)!;
    expect(joined).toBeDefined();
    // ...and the buffer it went out from holds nothing of it now.
    await expect.poll(() => joined.every((x) => x === 0)).toBe(true);
  });

  it('send: a copied batch goes out at once on an idle socket; behind a write in flight it grows, and goes out after it', async () => {
    const { s, writes, got } = await client();
    const w = new PooledWriter(s, false, 8 * 1024 * 1024);
    const scratch = Buffer.alloc(16 * 1024);
    const sent: Buffer[] = [];
    const read = (seed: number) => {
      const piece = scratch.subarray(0, pattern(16 * 1024 - seed, seed).copy(scratch));
      sent.push(Buffer.from(piece));
      return piece;
    };
    w.copy(read(1), false);
    expect(w.send()).toBe(true);
    expect(writes.map((b) => b.length)).toEqual([16 * 1024 - 1]);
    // The first is in flight: these wait in one batch, as reads of an upload do.
    for (let i = 2; i < 6; i++) {
      w.copy(read(i), false);
      scratch.fill(0x41);
      w.send();
    }
    expect(writes.length).toBe(1);
    // Nothing more is asked of the writer: the batch leaves when the write in flight is done.
    await expect.poll(() => writes.length).toBe(2);
    expect(writes.map((b) => b.length)).toEqual([16 * 1024 - 1, 4 * 16 * 1024 - (2 + 3 + 4 + 5)]);
    w.end();
    expect((await got()).equals(Buffer.concat(sent))).toBe(true);
  });

  it('copies bytes the caller overwrites at once, and sends each sealed batch as one HTTP chunk, in order with writes', async () => {
    const { s, writes, got } = await client();
    const w = new PooledWriter(s, false, 8 * 1024 * 1024);
    const scratch = Buffer.alloc(40 * 1024);
    const sent: Buffer[] = [];
    w.write([Buffer.from('HEAD\r\n')]);
    for (let i = 0; i < 60; i++) {
      const piece = scratch.subarray(0, pattern(10 * 1024 + i, i).copy(scratch));
      sent.push(Buffer.from(piece));
      w.copy(piece, true);
      // As the next read into the same buffer would.
      scratch.fill(0x41);
      if (i % 7 === 6) expect(w.seal()).toBe(true);
    }
    // Larger than a pooled buffer: a chunk per buffer it fills.
    const large = pattern(700 * 1024, 99);
    sent.push(large);
    w.copy(large, true);
    w.seal();
    w.write([Buffer.from('0\r\n\r\n')]);
    w.end();
    const all = await got();
    expect(all.subarray(0, 6).toString()).toBe('HEAD\r\n');
    // Chunked framing by hand: size line, bytes, CRLF; then the last chunk.
    const body: Buffer[] = [];
    let at = 6;
    for (;;) {
      const eol = all.indexOf('\r\n', at);
      const size = parseInt(all.toString('latin1', at, eol), 16);
      at = eol + 2;
      if (size === 0) break;
      expect(size).toBeLessThanOrEqual(POOLED);
      body.push(all.subarray(at, at + size));
      expect(all.toString('latin1', at + size, at + size + 2)).toBe('\r\n');
      at += size + 2;
    }
    expect(all.toString('latin1', at)).toBe('\r\n');
    expect(Buffer.concat(body).equals(Buffer.concat(sent))).toBe(true);
    // One write per batch (9 sealed, 3 for the large piece), the head and the last chunk.
    expect(writes.length).toBeLessThanOrEqual(14);
  });
});
