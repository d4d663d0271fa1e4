import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlaceholderSecret } from '../../src/placeholder/substitute.js';
import { ghToken, testCa } from './helpers.js';
import { readAll, splitReplies, startRawUpstream, startRelayProxy, startUpstream, type RelayProxy, type Upstream } from './relay-harness.js';

/**
 * The byte relay (src/sandbox/tls-relay.ts) that carries a placeholder host's requests after TLS
 * termination: every request head that could be framed two ways is refused with 400 before any of it
 * reaches the service, keep-alive and pipelined requests keep their boundaries, and replies are re-framed
 * when the redactor changes their length.
 */
const REAL = ghToken();
const SENT = ghToken();
const OTHER_REAL = `sk_live_${'R3alOtherValue'.repeat(2)}`;
const OTHER_SENT = `sk_live_${'S3ntOtherValue'.repeat(2)}`;
const BIG = 2 * 1024 * 1024;

let dir: string;
let up: Upstream;
let p: RelayProxy;
let closeOnce = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-relay-'));
  up = await startUpstream(dir, (req, res, body) => {
    const url = new URL(req.url!, 'https://x');
    const ok = req.headers.authorization === `Bearer ${REAL}`;
    if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`part one, auth ${ok}\n`);
      return setImmediate(() => res.end(`part two echo=${req.headers.authorization}\n`));
    }
    if (url.pathname === '/big-echo') {
      // Over the whole-reply limit, with a length, echoing the real value: the mask changes the length.
      const text = Buffer.alloc(BIG, 'a');
      text.write(`[${req.headers.authorization}]`, BIG - 200, 'latin1');
      return res.writeHead(200, { 'content-length': String(BIG) }).end(text);
    }
    if (url.pathname === '/many-echo') {
      // The real value every 53 bytes: most of the reply's TLS records end inside one, and so do the
      // proxy's reads of them, each into the one buffer its connection reads into (upstream-pool.ts).
      const text = echoes(req.headers.authorization ?? '');
      if (!url.searchParams.has('chunked')) return res.writeHead(200, { 'content-length': String(text.length) }).end(text);
      res.writeHead(200).write(text);
      return res.end();
    }
    if (url.pathname === '/empty') return res.writeHead(204).end();
    if (url.pathname === '/hop') {
      // The same header line each time; the reply's Connection header names it only when asked.
      res.setHeader('x-hop', 'h');
      res.setHeader('x-echo', req.headers.authorization ?? '');
      if (url.searchParams.has('name')) res.setHeader('connection', 'x-hop');
      return res.end('hop\n');
    }
    // As real services do: the length the GET would have (node's client keeps the connection only then).
    if (req.method === 'HEAD') return res.writeHead(200, { 'content-length': '1234' }).end();
    if (url.pathname === '/close' && closeOnce++ === 0) return res.writeHead(200, { connection: 'close' }).end('closing\n');
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-echo', req.headers.authorization ?? '');
    res.end(JSON.stringify({ ok, method: req.method, url: req.url, length: body.length, te: req.headers['transfer-encoding'] ?? null }) + '\n');
  });
});
afterAll(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** About 2 MiB of `<value>` and dots, 53 bytes a unit. */
const echoes = (value: string) => Buffer.from(`<${value}>${'.'.repeat(53 - value.length - 2)}`.repeat(Math.ceil(BIG / 53)), 'latin1');

const secrets = (): PlaceholderSecret[] => [
  { name: 'TOKEN', service: 'svc', sentinel: SENT, value: REAL, hosts: [`127.0.0.1:${up.port}`], surfaces: new Set(['header', 'basic', 'query']) },
  { name: 'OTHER', service: 'other', sentinel: OTHER_SENT, value: OTHER_REAL, hosts: ['api.other.example'], surfaces: new Set(['header', 'basic']) },
];

async function fresh(opts: { borrowReads?: boolean } = {}): Promise<RelayProxy> {
  up.seen.length = 0;
  up.heads = 0;
  up.connections = 0;
  up.bytes = 0;
  p = await startRelayProxy(dir, up, secrets(), opts);
  return p;
}
afterEach(async () => {
  await p?.close();
});

const authority = () => `127.0.0.1:${up.port}`;
const denials = () => p.proxy.records().egress.filter((r) => r.decision === 'deny').map((r) => r.reason ?? '');

/** Send bytes on a fresh tunnel and read until the proxy closes it. */
async function raw(bytes: string | Buffer): Promise<string> {
  const s = await p.tunnel();
  const all = readAll(s);
  s.write(bytes);
  return (await all).toString('latin1');
}

describe('the byte relay refuses request framing that could be read two ways', () => {
  const auth = () => `Authorization: Bearer ${SENT}\r\n`;
  // Each one would let a second request, carrying the real value, hide in the first one's body.
  const cases: [string, () => string][] = [
    ['Content-Length together with Transfer-Encoding', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}\r\n`],
    ['more than one Content-Length', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`],
    ['more than one Content-Length', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc`],
    ['a Content-Length that is not one number', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length: 3, 3\r\n\r\nabc`],
    ['a Content-Length that is not one number', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length: +3\r\n\r\nabc`],
    ['a folded header line (obs-fold)', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-Folded: one\r\n two\r\n\r\n`],
    ['a folded header line (obs-fold)', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: identity\r\n\tchunked\r\n\r\n0\r\n\r\n`],
    ['a Transfer-Encoding other than chunked', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
    ['a Transfer-Encoding other than chunked', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['a Transfer-Encoding other than chunked', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
    ['a bare CR, LF or NUL in the head', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-A: b\nContent-Length: 5\r\n\r\n`],
    ['a bare CR, LF or NUL in the head', () => `GET /a HTTP/1.1\nHost: ${authority()}\n${auth().replace('\r\n', '\n')}\n`],
    ['a bare CR, LF or NUL in the head', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-A: b\0c\r\n\r\n`],
    ['a bare CR, LF or NUL in the head', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-A: b\rContent-Length: 5\r\n\r\n`],
    ['a malformed header line', () => `POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Content-Length : 3\r\n\r\nabc`],
    ['not exactly one Host header', () => `GET /a HTTP/1.1\r\n${auth()}\r\n`],
    ['not exactly one Host header', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\nHost: evil.example\r\n${auth()}\r\n`],
    ['a request target that is not a path', () => `GET http://evil.example/ HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}\r\n`],
    ['a head longer than 65536 bytes', () => `GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-Long: ${'x'.repeat(70_000)}\r\n\r\n`],
  ];

  it.each(cases)('%s: 400, recorded, the service sees nothing', async (why, make) => {
    await fresh();
    const got = await raw(make());
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(got).toContain('x-outloop-refusal: bad_request_framing');
    expect(got).toContain(why);
    expect(got.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(up.heads).toBe(0);
    // The proxy connects to the service when the child's tunnel opens (as the allow-list tunnel does), so
    // a connection may be there; not one byte of the refused request is.
    expect(up.bytes).toBe(0);
    expect(denials()).toEqual([`bad_request_framing: ${why}; not sent`]);
  });

  it('a head that never ends is refused once it passes the limit, without waiting for the rest', async () => {
    await fresh();
    const s = await p.tunnel();
    const all = readAll(s);
    s.write(`GET /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}X-Long: `);
    for (let i = 0; i < 20; i++) s.write('y'.repeat(4096));
    const got = (await all).toString('latin1');
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(got).toContain('a head longer than');
    expect(up.bytes).toBe(0);
  });

  it('a chunked body that breaks its framing half-way: 400, and the service never gets a complete request', async () => {
    await fresh();
    const got = await raw(`POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nGET /smuggled HTTP/1.1\r\n\r\n`);
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(got).toContain('a malformed chunk size');
    expect(up.seen).toEqual([]);
    // A chunk whose data is longer than its size said.
    const got2 = await raw(`POST /a HTTP/1.1\r\nHost: ${authority()}\r\n${auth()}Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n`);
    expect(got2).toContain('chunk data not followed by CRLF');
    expect(up.seen).toEqual([]);
  });

  it('a sentinel of another service is refused (placeholder_wrong_host), in a header and across chunk seams of a body', async () => {
    await fresh();
    const got = await raw(`GET /a HTTP/1.1\r\nHost: ${authority()}\r\nX-Steal: ${OTHER_SENT}\r\n\r\n`);
    expect(got).toMatch(/^HTTP\/1\.1 403 /);
    expect(got).toContain('x-outloop-refusal: placeholder_wrong_host');
    expect(up.heads).toBe(0);
    const half = OTHER_SENT.length >> 1;
    const body = `${(half + 2).toString(16)}\r\nk=${OTHER_SENT.slice(0, half)}\r\n${(OTHER_SENT.length - half).toString(16)}\r\n${OTHER_SENT.slice(half)}\r\n0\r\n\r\n`;
    const got2 = await raw(`POST /b HTTP/1.1\r\nHost: ${authority()}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    expect(got2).toMatch(/^HTTP\/1\.1 403 /);
    expect(up.seen).toEqual([]);
    expect(denials().filter((r) => r.startsWith('placeholder_wrong_host'))).toHaveLength(2);
  });

  it('a real value with a line break in it is not written into a header (it would start another header)', async () => {
    up.seen.length = 0;
    up.heads = 0;
    const multi = secrets().map((x) => (x.name === 'TOKEN' ? { ...x, value: `${REAL}\r\nX-Injected: 1` } : x));
    p = await startRelayProxy(dir, up, multi);
    const got = await raw(`GET /a HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${SENT}\r\n\r\n`);
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(got).toContain('a value that cannot go in the Authorization header');
    expect(up.heads).toBe(0);
  });

  it('a request with a real value in it goes only to the host verified: another Host header is refused (421)', async () => {
    await fresh();
    const got = await raw(`GET /a HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${SENT}\r\n\r\n`);
    expect(got).toMatch(/^HTTP\/1\.1 421 /);
    expect(got).toContain('placeholder_misdirected');
    expect(up.heads).toBe(0);
    // Without a value to put in, the request is the child's own business.
    const ok = await raw(`GET /a HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    expect(ok).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('each request of a kept connection has its Host checked: a second one naming another site is refused', async () => {
    await fresh();
    const got = await raw(
      `GET /a HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${SENT}\r\n\r\n` +
        `GET /b HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${SENT}\r\n\r\n`,
    );
    const [first, second] = splitReplies(Buffer.from(got, 'latin1'), ['GET', 'GET']);
    expect(first!.status).toBe(200);
    expect(second!.status).toBe(421);
    expect(second!.body.toString()).toContain('placeholder_misdirected');
    expect(up.seen.map((r) => r.url)).toEqual(['/a']);
  });
});

/** The first reply in `all` is complete (it has a Content-Length, as the test service's replies do). */
function splitComplete(all: Buffer): boolean {
  const end = all.indexOf('\r\n\r\n');
  const len = /content-length: (\d+)/i.exec(all.toString('latin1', 0, Math.max(end, 0)));
  return end >= 0 && !!len && all.length >= end + 4 + Number(len[1]);
}

/** A node http client on one tunnel: its parser checks every reply's framing. */
function onTunnel(s: TLSSocket) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agent.createConnection = () => s;
  return (method: string, path: string, body?: Buffer | Buffer[], headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const q = request({ agent, method, path, headers: { host: authority(), authorization: `Bearer ${SENT}`, ...headers } }, (r) => {
        const parts: Buffer[] = [];
        r.on('data', (d: Buffer) => parts.push(d));
        r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body: Buffer.concat(parts) }));
      });
      q.on('error', reject);
      if (Array.isArray(body)) {
        // Several writes without a length: node sends them chunked.
        for (const b of body) q.write(b);
        q.end();
      } else q.end(body);
    });
}

describe('the byte relay keeps requests apart on a kept connection', () => {
  it('a keep-alive sequence with mixed Content-Length and chunked bodies and replies, on one upstream connection', async () => {
    await fresh();
    const s = await p.tunnel();
    const go = onTunnel(s);
    const json = (b: Buffer) => JSON.parse(b.toString('utf8'));
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'u');

    const a = await go('GET', `/one?key=${SENT}`);
    // The service echoes the target with the real value in it: the child reads the mask.
    expect(json(a.body)).toEqual({ ok: true, method: 'GET', url: '/one?key=[REDACTED:TOKEN]', length: 0, te: null });
    expect(a.headers['x-echo']).toBe('Bearer [REDACTED:TOKEN]');
    const b = await go('POST', '/two', Buffer.from('hello'), { 'content-type': 'text/plain' });
    expect(json(b.body)).toMatchObject({ ok: true, length: 5, te: null });
    const c = await go('POST', '/three', [Buffer.from('chunk one '), Buffer.from('chunk two')]);
    expect(json(c.body)).toMatchObject({ ok: true, length: 19, te: 'chunked' });
    const d = await go('GET', '/chunked');
    expect(d.body.toString()).toBe('part one, auth true\npart two echo=Bearer [REDACTED:TOKEN]\n');
    const e = await go('PUT', '/four', [big.subarray(0, 1000), big.subarray(1000)]);
    expect(json(e.body)).toMatchObject({ ok: true, length: big.length, te: 'chunked' });
    const f = await go('POST', '/five', big);
    expect(json(f.body)).toMatchObject({ ok: true, length: big.length });
    const g = await go('HEAD', '/six');
    expect(g.body.length).toBe(0);
    expect(g.status).toBe(200);
    const h = await go('GET', '/empty');
    expect(h.status).toBe(204);
    const i = await go('GET', '/big-echo');
    // The mask is shorter than the value: the reply is re-framed (chunked), and node's parser agrees.
    expect(i.headers['transfer-encoding']).toBe('chunked');
    expect(i.headers['content-length']).toBeUndefined();
    expect(i.body.length).toBe(BIG - (`Bearer ${REAL}`.length - 'Bearer [REDACTED:TOKEN]'.length));
    expect(i.body.toString('latin1')).toContain('[Bearer [REDACTED:TOKEN]]');
    expect(i.body.toString('latin1')).not.toContain(REAL);
    const j = await go('GET', '/last');
    expect(json(j.body)).toMatchObject({ ok: true, url: '/last' });

    expect(up.seen.map((x) => `${x.method} ${x.url} ${x.body.length}`)).toEqual([
      `GET /one?key=${REAL} 0`, 'POST /two 5', 'POST /three 19', 'GET /chunked 0', `PUT /four ${big.length}`, `POST /five ${big.length}`,
      'HEAD /six 0', 'GET /empty 0', 'GET /big-echo 0', 'GET /last 0',
    ]);
    expect(up.seen.every((x) => x.headers.authorization === `Bearer ${REAL}` && x.headers['accept-encoding'] === 'identity')).toBe(true);
    expect(up.connections).toBe(1);
    const subs = p.proxy.records().substitutions!;
    expect(subs).toEqual(expect.arrayContaining([
      { secret: 'TOKEN', host: '127.0.0.1', surface: 'header', count: 10 },
      { secret: 'TOKEN', host: '127.0.0.1', surface: 'query', count: 1 },
    ]));
    const rec = p.proxy.records().egress.find((r) => r.port === up.port)!;
    expect(rec).toMatchObject({ decision: 'allow', intercepted: true });
    expect(rec.bytesOut).toBeGreaterThan(2 * big.length);
    expect(rec.bytesIn).toBeGreaterThan(BIG);
    s.destroy();
  });

  it('a long reply read into one reused buffer: every value split between two reads is masked whole, every other byte as sent', async () => {
    await fresh();
    const s = await p.tunnel();
    const go = onTunnel(s);
    const want = echoes(`Bearer ${REAL}`).toString('latin1').replaceAll(REAL, '[REDACTED:TOKEN]');
    for (const path of ['/many-echo', '/many-echo?chunked']) {
      const r = await go('GET', path);
      expect(r.status).toBe(200);
      expect(r.body.toString('latin1') === want).toBe(true);
    }
    s.destroy();
  });

  // The relay reads the child's bytes into one buffer (borrowed-reads.ts) where node allows it, and as
  // 'data' events where it does not: both must keep every byte of a body, and of a request split after one.
  describe.each([['into one reused buffer', true], ['as data events', false]])('a request body read %s', (_how, borrowReads) => {
    it('a 3 MiB body with a length and chunked reaches the service byte for byte, while its writes queue behind one in flight', async () => {
      await fresh({ borrowReads });
      const s = await p.tunnel();
      const go = onTunnel(s);
      // Every 4 bytes their own offset: a byte lost, doubled, moved or written over shows.
      const body = Buffer.alloc(3 * 1024 * 1024 + 12);
      for (let i = 0; i + 4 <= body.length; i += 4) body.writeUInt32LE(i, i);
      expect((await go('POST', '/len', body)).status).toBe(200);
      expect((await go('PUT', '/chunked-up', [body.subarray(0, 4099), body.subarray(4099, 1 << 20), body.subarray(1 << 20)])).status).toBe(200);
      expect(up.seen.map((x) => `${x.method} ${x.url} ${x.headers['transfer-encoding'] ?? 'length'}`)).toEqual(['POST /len length', 'PUT /chunked-up chunked']);
      expect(up.seen.every((x) => x.body.equals(body))).toBe(true);
      s.destroy();
    });

    it('a body read while the service connection is still being made waits whole, and reaches the service byte for byte', async () => {
      // The service's connections wait at a gate until the proxy has read the whole body: every read of
      // it is held, none can be written yet.
      const held: Socket[] = [];
      const gate = createNetServer((c) => void held.push(c));
      await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
      const gatePort = (gate.address() as { port: number }).port;
      const px = await startRelayProxy(dir, { port: gatePort, caPem: up.caPem }, secrets().map((x) => (x.name === 'TOKEN' ? { ...x, hosts: [`127.0.0.1:${gatePort}`] } : x)), { borrowReads });
      try {
        up.seen.length = 0;
        const s = await px.tunnel(`127.0.0.1:${gatePort}`);
        const body = Buffer.alloc(256 * 1024 + 8);
        for (let i = 0; i + 4 <= body.length; i += 4) body.writeUInt32LE(i, i);
        const all = readAll(s);
        s.write(`POST /gated HTTP/1.1\r\nHost: 127.0.0.1:${gatePort}\r\nAuthorization: Bearer ${SENT}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        for (let at = 0; at < body.length; at += 10_000) s.write(body.subarray(at, at + 10_000));
        const rec = () => px.proxy.records().egress.find((r) => r.port === gatePort);
        await expect.poll(() => rec()?.bytesOut ?? 0).toBeGreaterThanOrEqual(body.length);
        expect(held.length).toBe(1);
        for (const c of held) {
          const u = netConnect(up.port, '127.0.0.1');
          c.pipe(u).pipe(c);
        }
        const replies = splitReplies(await all, ['POST']);
        expect(replies.map((r) => r.status)).toEqual([200]);
        expect(up.seen.map((x) => `${x.method} ${x.url}`)).toEqual(['POST /gated']);
        expect(up.seen[0]!.body.equals(body)).toBe(true);
      } finally {
        await px.close();
        for (const c of held) c.destroy();
        await new Promise<void>((r) => gate.close(() => r()));
      }
    });

    it.each([['a length', 'Content-Length: 5\r\n\r\nhello'], ['chunked', 'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n']])(
      'the start of the next request after a body with %s is kept while the child writes the rest of it',
      async (_framing, rest) => {
        await fresh({ borrowReads });
        const s = await p.tunnel();
        const h = `Host: ${authority()}\r\nAuthorization: Bearer ${SENT}\r\n`;
        const got: Buffer[] = [];
        const closed = new Promise<void>((r) => s.on('close', () => r()));
        // One write, one read by the proxy: the first request whole, then the start of the second.
        const first = new Promise<void>((resolve) => s.on('data', (d: Buffer) => {
          got.push(d);
          if (splitComplete(Buffer.concat(got))) resolve();
        }));
        s.write(`POST /s1 HTTP/1.1\r\n${h}${rest}GET /s2 HTTP/1.1\r\nX-Pad: `);
        // The reply to the first means the proxy has read that write; the next one lands in the same
        // buffer, and is longer than the bytes kept from it.
        await first;
        const pad = 'p'.repeat(3000);
        s.write(`${pad}\r\n${h}Connection: close\r\n\r\n`);
        await closed;
        const replies = splitReplies(Buffer.concat(got), ['POST', 'GET']);
        expect(replies.map((r) => r.status)).toEqual([200, 200]);
        expect(up.seen.map((x) => `${x.method} ${x.url} ${x.body.toString()}`)).toEqual(['POST /s1 hello', 'GET /s2 ']);
        expect(up.seen[1]!.headers['x-pad']).toBe(pad);
      },
    );
  });

  it('a header line repeated on a kept connection goes on as each message says: dropped where Connection names it, swapped, masked and counted every time', async () => {
    // The relay keeps what it made of each header line for the rest of the connection (http1.ts FieldCache).
    await fresh();
    const s = await p.tunnel();
    const go = onTunnel(s);
    const got = [];
    got.push(await go('GET', '/hop', undefined, { 'x-trace': 't1' }));
    got.push(await go('GET', '/hop?name', undefined, { 'x-trace': 't1', connection: 'keep-alive, x-trace' }));
    got.push(await go('GET', '/hop', undefined, { 'x-trace': 't1' }));
    s.destroy();
    expect(up.seen.map((r) => [r.url, r.headers['x-trace'] ?? null, r.headers.authorization])).toEqual([
      ['/hop', 't1', `Bearer ${REAL}`],
      ['/hop?name', null, `Bearer ${REAL}`],
      ['/hop', 't1', `Bearer ${REAL}`],
    ]);
    expect(got.map((r) => [r.status, r.headers['x-hop'] ?? null, r.headers.connection ?? null])).toEqual([[200, 'h', null], [200, null, null], [200, 'h', null]]);
    // The reply's echo of the real value is masked in each reply, not only the first.
    for (const r of got) {
      expect(String(r.headers['x-echo'])).not.toContain(REAL);
      expect(String(r.headers['x-echo'])).toMatch(/^Bearer \S+/);
    }
    expect(p.proxy.records().substitutions).toEqual([{ secret: 'TOKEN', host: '127.0.0.1', surface: 'header', count: 3 }]);
    expect(up.connections).toBe(1);
  });

  it('pipelined requests in one write are answered in order, each framed as sent', async () => {
    await fresh();
    const h = `Host: ${authority()}\r\nAuthorization: Bearer ${SENT}\r\n`;
    const got = await raw(Buffer.from(
      `GET /p1 HTTP/1.1\r\n${h}\r\n` +
      `POST /p2 HTTP/1.1\r\n${h}Content-Length: 11\r\n\r\nhello world` +
      `POST /p3 HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n` +
      `GET /chunked HTTP/1.1\r\n${h}\r\n` +
      `GET /p5 HTTP/1.1\r\n${h}Connection: close\r\n\r\n`, 'latin1'));
    const replies = splitReplies(Buffer.from(got, 'latin1'), ['GET', 'POST', 'POST', 'GET', 'GET']);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = replies.map((r) => r.body.toString('utf8'));
    expect(JSON.parse(bodies[0]!)).toMatchObject({ ok: true, url: '/p1', length: 0 });
    expect(JSON.parse(bodies[1]!)).toMatchObject({ ok: true, url: '/p2', length: 11 });
    expect(JSON.parse(bodies[2]!)).toMatchObject({ ok: true, url: '/p3', length: 7, te: 'chunked' });
    expect(bodies[3]).toBe('part one, auth true\npart two echo=Bearer [REDACTED:TOKEN]\n');
    expect(JSON.parse(bodies[4]!)).toMatchObject({ ok: true, url: '/p5' });
    expect(replies[4]!.headers.connection).toEqual(['close']);
    expect(up.seen.map((x) => `${x.url} ${x.body.toString()}`)).toEqual(['/p1 ', '/p2 hello world', '/p3 abcdefg', '/chunked ', '/p5 ']);
    expect(up.connections).toBe(1);
  });

  it('a child that closes its side after its requests still gets the replies, then the connection ends', async () => {
    await fresh();
    const s = await p.tunnel();
    const all = readAll(s);
    const h = `Host: ${authority()}\r\nAuthorization: Bearer ${SENT}\r\n`;
    s.end(`GET /h1 HTTP/1.1\r\n${h}\r\nGET /h2 HTTP/1.1\r\n${h}\r\n`);
    const replies = splitReplies(await all, ['GET', 'GET']);
    expect(replies.map((r) => JSON.parse(r.body.toString()).url)).toEqual(['/h1', '/h2']);
  });

  it('an HTTP/1.0 request gets its reply and the connection closes after it', async () => {
    await fresh();
    const got = await raw(`GET /old HTTP/1.0\r\nAuthorization: Bearer ${SENT}\r\n\r\n`);
    const [r] = splitReplies(Buffer.from(got, 'latin1'), ['GET']);
    expect(r!.headers.connection).toEqual(['close']);
    expect(JSON.parse(r!.body.toString())).toMatchObject({ ok: true, url: '/old' });
    expect(up.seen[0]!.headers.host).toBe(authority());
  });

  it('Expect: 100-continue: the service answers 100 through the relay, then the body follows', async () => {
    await fresh();
    const s = await p.tunnel();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agent.createConnection = () => s;
    const q = request({ agent, method: 'POST', path: '/expect', headers: { host: authority(), authorization: `Bearer ${SENT}`, expect: '100-continue', 'content-length': '4' } });
    const continued = once(q, 'continue');
    const res = once(q, 'response') as Promise<[IncomingMessage]>;
    q.flushHeaders();
    await continued;
    q.end('body');
    const [r] = await res;
    let text = '';
    for await (const d of r) text += d;
    expect(JSON.parse(text)).toMatchObject({ ok: true, length: 4 });
    s.destroy();
  });

  it('both TLS legs use AES-128-GCM: the proxy picks it towards the child and offers it first upstream', async () => {
    await fresh();
    // The child offers node's default order (AES-256-GCM first); the proxy's leaf context decides.
    const s = await p.tunnel();
    expect(s.getCipher().name).toBe('TLS_AES_128_GCM_SHA256');
    s.destroy();
    await p.close();
    // A service that takes its client's order (node's own server takes its own, AES-256-GCM first).
    const follower = await startUpstream(dir, (_req, res) => res.end('ok\n'), { honorCipherOrder: false });
    const suites: string[] = [];
    follower.server.on('secureConnection', (sock: TLSSocket) => suites.push(sock.getCipher().name));
    p = await startRelayProxy(dir, follower, [{ ...secrets()[0]!, hosts: [`127.0.0.1:${follower.port}`] }]);
    try {
      const t = await p.tunnel(`127.0.0.1:${follower.port}`);
      const r = await onTunnel(t)('GET', '/cipher', undefined, { host: `127.0.0.1:${follower.port}` });
      expect(r.status).toBe(200);
      expect(suites).toEqual(['TLS_AES_128_GCM_SHA256']);
      t.destroy();
    } finally {
      await follower.close();
    }
  });

  it('a connection the child is done with serves its next connection; one the service closes is replaced', async () => {
    await fresh();
    const once1 = await p.tunnel();
    expect((await onTunnel(once1)('GET', '/first')).status).toBe(200);
    once1.destroy();
    const again = await p.tunnel();
    const go = onTunnel(again);
    expect((await go('GET', '/second')).status).toBe(200);
    expect(up.connections).toBe(1);
    closeOnce = 0;
    expect((await go('GET', '/close')).body.toString()).toBe('closing\n');
    expect(JSON.parse((await go('GET', '/after')).body.toString())).toMatchObject({ ok: true, url: '/after' });
    expect(up.connections).toBe(2);
    again.destroy();
  });
});

describe('the byte relay and a service that misbehaves', () => {
  const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('a kept connection the service drops under a request: a GET goes once more on a new one, a POST is not repeated', async () => {
    // The second request on each connection finds it closed, as when a keep-alive timeout races the request.
    const raw = await startRawUpstream(dir, (sock, line, _conn, n) => (n === 1 ? sock.write(ok(line)) : sock.destroy()));
    const px = await startRelayProxy(dir, raw, secrets().map((s) => ({ ...s, hosts: [`127.0.0.1:${raw.port}`] })));
    try {
      const s = await px.tunnel(`127.0.0.1:${raw.port}`);
      const all = readAll(s);
      const h = `Host: 127.0.0.1:${raw.port}\r\n`;
      s.write(`GET /a HTTP/1.1\r\n${h}\r\nGET /b HTTP/1.1\r\n${h}\r\nPOST /c HTTP/1.1\r\n${h}\r\n`);
      const got = splitReplies(await all, ['GET', 'GET', 'POST']);
      expect(got.map((r) => `${r.status} ${r.body.toString().split('\n')[0]}`)).toEqual([
        '200 GET /a HTTP/1.1', '200 GET /b HTTP/1.1',
        expect.stringMatching(/^502 outloop: 127\.0\.0\.1:\d+ \(127\.0\.0\.1\) did not answer \(ECONNRESET\)/),
      ]);
      expect(raw.seen).toEqual(['1:GET /a HTTP/1.1', '1:GET /b HTTP/1.1', '2:GET /b HTTP/1.1', '2:POST /c HTTP/1.1']);
    } finally {
      await px.close();
      await raw.close();
    }
  });

  it('the connection made as the tunnel opened, dropped by the service as the first request goes out: the GET goes once more', async () => {
    // The proxy connects when the child's tunnel opens; the service drops that connection at the first request.
    const raw = await startRawUpstream(dir, (sock, line, conn) => (conn === 1 ? sock.destroy() : sock.write(ok(line))));
    const px = await startRelayProxy(dir, raw, secrets().map((s) => ({ ...s, hosts: [`127.0.0.1:${raw.port}`] })));
    try {
      const made = new Promise((r) => raw.server.once('secureConnection', r));
      const s = await px.tunnel(`127.0.0.1:${raw.port}`);
      await made;
      const r = await onTunnel(s)('GET', '/a', undefined, { host: `127.0.0.1:${raw.port}` });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('GET /a HTTP/1.1');
      expect(raw.seen).toEqual(['1:GET /a HTTP/1.1', '2:GET /a HTTP/1.1']);
      s.destroy();
    } finally {
      await px.close();
      await raw.close();
    }
  });

  it('a reply read to the end of the connection reaches the child chunked; one whose length cannot be read is a 502', async () => {
    const raw = await startRawUpstream(dir, (sock, line) => {
      if (line.startsWith('GET /eof')) sock.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end, echo ${REAL}`);
      else sock.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef');
    });
    const px = await startRelayProxy(dir, raw, secrets().map((s) => ({ ...s, hosts: [`127.0.0.1:${raw.port}`] })));
    try {
      const s = await px.tunnel(`127.0.0.1:${raw.port}`);
      const all = readAll(s);
      const h = `Host: 127.0.0.1:${raw.port}\r\n`;
      s.write(`GET /eof HTTP/1.1\r\n${h}\r\nGET /two-lengths HTTP/1.1\r\n${h}\r\n`);
      const [a, b] = splitReplies(await all, ['GET', 'GET']);
      expect(a!.headers['transfer-encoding']).toEqual(['chunked']);
      expect(a!.body.toString()).toBe('until the end, echo [REDACTED:TOKEN]');
      expect(b!.status).toBe(502);
      expect(raw.seen).toEqual(['1:GET /eof HTTP/1.1', '2:GET /two-lengths HTTP/1.1']);
      expect(px.proxy.records().egress.find((r) => r.port === raw.port)!.reason).toContain('an unusable Content-Length');
    } finally {
      await px.close();
      await raw.close();
    }
  });
});

describe('the byte relay and a service that reads an upload slowly', () => {
  it('backpressure: the child is held back, never far ahead of what the service has read (the proxy does not buffer the body)', async () => {
    // The service reads the body at its own pace: after each MiB it stops reading for a moment. Without
    // backpressure the proxy would take the child's 64 MiB as fast as it comes and hold it in memory.
    const SIZE = 64 * 1024 * 1024;
    const ca = testCa(dir, 'relay-slow-upstream');
    let received = 0;
    let maxGap = 0;
    let accepted = () => 0;
    const server = createTlsServer(ca.leaf(['127.0.0.1']), (sock) => {
      let head = '';
      let inBody = false;
      let sinceStop = 0;
      sock.on('data', (d: Buffer) => {
        if (!inBody) {
          head += d.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          inBody = true;
          d = Buffer.from(head.slice(end + 4), 'latin1');
        }
        received += d.length;
        sinceStop += d.length;
        maxGap = Math.max(maxGap, accepted() - received);
        if (received >= SIZE) return void sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        if (sinceStop >= 1024 * 1024) {
          sinceStop = 0;
          sock.pause();
          setTimeout(() => sock.resume(), 15);
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const px = await startRelayProxy(dir, { port, caPem: readFileSync(ca.caFile, 'utf8') }, secrets().map((s) => ({ ...s, hosts: [`127.0.0.1:${port}`] })));
    try {
      const s = await px.tunnel(`127.0.0.1:${port}`);
      // The connection stays open for the child's next request: the reply is read up to its end.
      let text = '';
      const reply = new Promise<string>((resolve) => s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.endsWith('\r\n\r\nok')) resolve(text);
      }));
      let written = 0;
      // What has left the child: handed to its socket, minus what still waits in the socket's own buffer.
      accepted = () => written - s.writableLength;
      s.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${SENT}\r\nContent-Length: ${SIZE}\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 'u');
      while (written < SIZE) {
        written += chunk.length;
        if (!s.write(chunk)) await once(s, 'drain');
      }
      expect(await reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      s.destroy();
      expect(received).toBe(SIZE);
      // Socket buffers on both legs and the proxy's 1 MiB allowance hold some; nothing near the body.
      console.log(`upload backpressure: the child at most ${(maxGap / 1048576).toFixed(1)} MiB ahead of the service`);
      expect(maxGap).toBeLessThan(24 * 1024 * 1024);
    } finally {
      await px.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});
