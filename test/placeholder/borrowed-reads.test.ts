import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { borrowReads, RECORD_PLAINTEXT } from '../../src/sandbox/borrowed-reads.js';
import { testCa } from './helpers.js';

/**
 * src/sandbox/borrowed-reads.ts: the child's side of the placeholder proxy, a TLS socket wrapping an
 * accepted connection, reads into one buffer of its own. It rests on node's internals, so this runs on
 * every node release CI runs (scripts/node-versions.sh): a release that moved them fails here, not
 * silently slower in the bench.
 */
let dir: string;
let ca: { certPem: string; leaf: { key: string; cert: string } };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-borrow-'));
  const c = testCa(dir, 'borrow');
  ca = { certPem: readFileSync(c.caFile, 'utf8'), leaf: c.leaf(['127.0.0.1']) as { key: string; cert: string } };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Side {
  borrowed: boolean;
  buffers: Set<ArrayBufferLike>;
  dataEvents: number;
  got: Promise<Buffer>;
  closed: Promise<void>;
}

/** A server whose accepted connection is wrapped as the proxy wraps the child's, and a client of it. */
async function pair(prepare?: (s: TLSSocket) => void): Promise<{ side: Side; client: TLSSocket; server: Server }> {
  const ctx = createSecureContext(ca.leaf);
  let accepted!: (side: Side) => void;
  const sideP = new Promise<Side>((r) => (accepted = r));
  const server = createServer((raw) => {
    const s = new TLSSocket(raw, { isServer: true, secureContext: ctx });
    prepare?.(s);
    const parts: Buffer[] = [];
    const side: Side = {
      borrowed: false, buffers: new Set(), dataEvents: 0,
      got: new Promise((resolve) => s.on('end', () => {
        resolve(Buffer.concat(parts));
        s.end();
      })),
      closed: new Promise((r) => s.once('close', () => r())),
    };
    side.borrowed = borrowReads(s, RECORD_PLAINTEXT, (view) => {
      side.buffers.add(view.buffer);
      parts.push(Buffer.from(view));
    });
    s.on('data', (d: Buffer) => {
      side.dataEvents++;
      parts.push(d);
    });
    s.on('error', () => {});
    accepted(side);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', ca: ca.certPem });
  await new Promise<void>((r, j) => client.once('secureConnect', () => r()).once('error', j));
  return { side: await sideP, client, server };
}

const pattern = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(i, i);
  return b;
};

describe('borrowReads', () => {
  it('reads every byte of a wrapped connection into one buffer, with no data event, and zeroes it at the close', async () => {
    const { side, client, server } = await pair();
    expect(side.borrowed).toBe(true);
    const all = pattern(1024 * 1024 + 3);
    // Uneven writes: records of every size, and more than one record per read of the connection.
    for (let at = 0, n = 1; at < all.length; at += n, n = (n * 7 + 1) % 40000 || 1) client.write(all.subarray(at, at + n));
    client.end();
    expect((await side.got).equals(all)).toBe(true);
    expect(side.dataEvents).toBe(0);
    expect(side.buffers.size).toBe(1);
    await side.closed;
    const buffer = Buffer.from(side.buffers.values().next().value as ArrayBuffer);
    expect(buffer.length).toBe(RECORD_PLAINTEXT);
    expect(buffer.every((x) => x === 0)).toBe(true);
    client.destroy();
    server.close();
  });

  it('leaves a socket someone already reads through data events as it is', async () => {
    const { side, client, server } = await pair((s) => s.on('data', () => {}));
    expect(side.borrowed).toBe(false);
    const all = pattern(64 * 1024);
    client.end(all);
    expect((await side.got).equals(all)).toBe(true);
    expect(side.dataEvents).toBeGreaterThan(0);
    client.destroy();
    server.close();
  });
});
