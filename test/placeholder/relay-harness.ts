import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { LeafIssuer, loadOrCreateCa } from '../../src/placeholder/ca.js';
import { Substituter, type PlaceholderSecret } from '../../src/placeholder/substitute.js';
import { replyRedactor } from '../../src/sandbox/tls-placeholder.js';
import { EgressProxy } from '../../src/sandbox/proxy.js';
import { Interceptor } from '../../src/sandbox/tls-intercept.js';
import { testCa } from './helpers.js';

/**
 * The placeholder proxy as a library, between a raw TLS client (what a child could send, byte for byte)
 * and a local HTTPS service that records each request it read completely and each TLS connection it
 * accepted: the proof of "the service saw nothing" and of keep-alive reuse.
 */
export interface Upstream {
  port: number;
  caPem: string;
  /** Requests read to their end, in order. */
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
  /** Requests whose head arrived (complete or not). */
  heads: number;
  connections: number;
  /** Bytes of requests that reached the service, decrypted, on every connection (complete or not). */
  bytes: number;
  server: Server;
  close(): Promise<void>;
}

export type Reply = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** `tls`: server options besides the leaf (honorCipherOrder: false makes it take its client's order of suites). */
export async function startUpstream(dir: string, reply: Reply, tls: { honorCipherOrder?: boolean } = {}): Promise<Upstream> {
  const ca = testCa(dir, 'relay-upstream');
  const u = { seen: [], heads: 0, connections: 0, bytes: 0 } as unknown as Upstream;
  const server = createServer({ ...ca.leaf(['127.0.0.1']), ...tls }, (req, res) => {
    u.heads++;
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      u.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      reply(req, res, body);
    });
  });
  server.on('secureConnection', (s) => {
    u.connections++;
    s.on('data', (d: Buffer) => (u.bytes += d.length));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(u, {
    port: (server.address() as { port: number }).port,
    caPem: readFileSync(ca.caFile, 'utf8'),
    server,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  });
}

/**
 * A TLS service that reads bodiless request heads itself and answers with whatever bytes `answer`
 * writes: for replies node's server would never send (a connection dropped under a request, framing
 * that cannot be read). `seen` lists `connection#:request-line` for every head that arrived.
 */
export async function startRawUpstream(dir: string, answer: (sock: TLSSocket, line: string, conn: number, n: number) => void) {
  const ca = testCa(dir, 'relay-raw-upstream');
  const seen: string[] = [];
  let conns = 0;
  const server = createTlsServer(ca.leaf(['127.0.0.1']), (sock) => {
    const conn = ++conns;
    let buf = '';
    let n = 0;
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const line = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(end + 4);
        seen.push(`${conn}:${line}`);
        answer(sock, line, conn, ++n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, caPem: readFileSync(ca.caFile, 'utf8'), seen, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface RelayProxy {
  port: number;
  proxy: EgressProxy;
  caPem: string;
  /** A CONNECT to the service through the proxy, then TLS to the proxy's leaf: bytes go in as written. */
  tunnel(authority?: string): Promise<TLSSocket>;
  close(): Promise<void>;
}

export async function startRelayProxy(dir: string, up: Pick<Upstream, 'port' | 'caPem'>, secrets: PlaceholderSecret[], opts: { relay?: boolean; borrowReads?: boolean } = {}): Promise<RelayProxy> {
  const ca = loadOrCreateCa(join(dir, 'state'));
  const hooks = new Interceptor({
    substituter: new Substituter(secrets), issuer: new LeafIssuer(ca),
    redactor: await replyRedactor(secrets), extraCa: [up.caPem], ...opts,
  });
  const proxy = new EgressProxy({ hosts: [`127.0.0.1:${up.port}`], label: 'svc.test', hooks });
  const port = Number(new URL(await proxy.listen({ host: '127.0.0.1', port: 0 })).port);
  const tunnel = async (authority = `127.0.0.1:${up.port}`) => {
    const raw = netConnect(port, '127.0.0.1');
    raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        raw.off('data', onData);
        if (got.startsWith('HTTP/1.1 200')) resolve();
        else reject(new Error(`CONNECT: ${got}`));
      };
      raw.on('data', onData).once('error', reject);
    });
    const s = tlsConnect({ socket: raw, ca: ca.certPem, host: '127.0.0.1', ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((r, j) => s.once('secureConnect', r).once('error', j));
    return s;
  };
  return { port, proxy, caPem: ca.certPem, tunnel, close: () => proxy.close() };
}

/** Everything the proxy writes until it closes the connection. */
export function readAll(s: TLSSocket): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(parts)));
  });
}

export interface RawReply {
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

/**
 * Replies as a client reads them, in order (a reader of its own, so the test does not check the relay with
 * the relay's parser): Content-Length, chunked, or to the end; HEAD, 1xx, 204 and 304 have no body.
 */
export function splitReplies(all: Buffer, methods: string[]): RawReply[] {
  const out: RawReply[] = [];
  let at = 0;
  while (at < all.length) {
    const end = all.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`an incomplete head: ${all.subarray(at).toString('latin1').slice(0, 200)}`);
    const [line, ...rest] = all.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(line!)![1]);
    const headers: Record<string, string[]> = {};
    for (const l of rest) {
      const i = l.indexOf(':');
      (headers[l.slice(0, i).toLowerCase()] ??= []).push(l.slice(i + 1).trim());
    }
    at = end + 4;
    if (status < 200) continue;
    const method = methods[out.length];
    let body: Buffer = Buffer.alloc(0);
    if (method === 'HEAD' || status === 204 || status === 304) {
      /* no body */
    } else if (headers['transfer-encoding']?.[0] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const nl = all.indexOf('\r\n', at);
        const n = parseInt(all.toString('latin1', at, nl), 16);
        at = nl + 2;
        if (n === 0) {
          at = all.indexOf('\r\n', at) + 2;
          break;
        }
        parts.push(all.subarray(at, at + n));
        if (all.toString('latin1', at + n, at + n + 2) !== '\r\n') throw new Error('a chunk without CRLF');
        at += n + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length']) {
      const n = Number(headers['content-length'][0]);
      body = all.subarray(at, at + n);
      if (body.length !== n) throw new Error(`a short body: ${body.length} of ${n}`);
      at += n;
    } else {
      body = all.subarray(at);
      at = all.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}
