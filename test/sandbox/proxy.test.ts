import { connect } from 'node:net';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressProxy, type Lookup } from '../../src/sandbox/proxy.js';

/** The proxy as a library, against real local servers: what it lets through, what it refuses and records. */
let origin: Server;
let other: Server;
let originPort: number;
let otherPort: number;

beforeAll(async () => {
  origin = createServer((req, res) => res.end(`origin saw ${req.method} ${req.url} host=${req.headers.host}`));
  other = createServer((_req, res) => res.end('other'));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as { port: number }).port;
  otherPort = (other.address() as { port: number }).port;
});
afterAll(() => {
  origin.close();
  other.close();
});

async function withProxy(hosts: string[], lookup: Lookup | undefined, fn: (port: number, p: EgressProxy) => Promise<void>) {
  const p = new EgressProxy({ hosts, label: 'demo.fetch', lookup });
  const url = await p.listen({ host: '127.0.0.1', port: 0 });
  try {
    await fn(Number(new URL(url).port), p);
  } finally {
    await p.close();
  }
}

/** A plain-http request through the proxy (absolute form). */
function viaProxy(proxyPort: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: target, headers: { host: new URL(target).host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

/** CONNECT host:port, then a plain HTTP request inside the tunnel. */
function tunnel(proxyPort: number, authority: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(proxyPort, '127.0.0.1');
    let buf = '';
    let opened = false;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (!opened && buf.includes('\r\n\r\n')) {
        opened = true;
        if (buf.startsWith('HTTP/1.1 200')) {
          buf = '';
          s.write(`GET /tunnelled HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
        }
      }
    });
    s.on('end', () => {
      const i = buf.indexOf('\r\n\r\n');
      resolve({ head: buf.slice(0, i), body: buf.slice(i + 4) });
    });
    s.on('error', reject);
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

describe('egress proxy', () => {
  it('forwards an allowed absolute-form request and an allowed CONNECT, counting bytes', async () => {
    await withProxy([`127.0.0.1:${originPort}`], undefined, async (port, p) => {
      const r = await viaProxy(port, `http://127.0.0.1:${originPort}/v1/x?limit=2`);
      expect(r).toEqual({ status: 200, body: `origin saw GET /v1/x?limit=2 host=127.0.0.1:${originPort}` });
      const t = await tunnel(port, `127.0.0.1:${originPort}`);
      expect(t.body).toMatch(/origin saw GET \/tunnelled/);
      const { egress } = p.records();
      expect(egress).toHaveLength(2);
      for (const e of egress) expect(e).toMatchObject({ host: '127.0.0.1', port: originPort, ip: '127.0.0.1', decision: 'allow' });
      expect(egress[1]!.bytesIn).toBeGreaterThan(20);
      expect(egress[1]!.bytesOut).toBeGreaterThan(20);
    });
  });

  it('refuses another port with a 403 that names the host, the recipe and its hosts', async () => {
    await withProxy([`127.0.0.1:${originPort}`], undefined, async (port, p) => {
      const r = await viaProxy(port, `http://127.0.0.1:${otherPort}/`);
      expect(r.status).toBe(403);
      expect(r.body).toBe(`outloop: egress to 127.0.0.1:${otherPort} refused (not in hosts of demo.fetch: 127.0.0.1:${originPort}). Ask for the recipe's hosts to be extended.\n`);
      const t = await tunnel(port, `evil.example:443`);
      expect(t.head).toMatch(/^HTTP\/1.1 403/);
      expect(t.body).toContain('egress to evil.example:443 refused');
      expect(p.records().egress.map((e) => [e.host, e.decision])).toEqual([['127.0.0.1', 'deny'], ['evil.example', 'deny']]);
    });
  });

  it('a name resolving to a private, loopback or metadata address is refused even when the name is allowed', async () => {
    const seen: string[] = [];
    const lookup: Lookup = async (h) => {
      seen.push(h);
      const table: Record<string, string> = { 'api.example.com': '10.0.0.7', 'meta.example.com': '169.254.169.254', 'lo.example.com': '127.0.0.1' };
      return [{ address: table[h] ?? '203.0.113.9', family: 4 }];
    };
    await withProxy(['api.example.com', 'meta.example.com:80', `lo.example.com:${originPort}`], lookup, async (port, p) => {
      const a = await tunnel(port, 'api.example.com:443');
      expect(a.head).toMatch(/403/);
      expect(a.body).toContain('api.example.com resolves to 10.0.0.7, a private address');
      const b = await viaProxy(port, 'http://meta.example.com/latest/meta-data/');
      expect(b.status).toBe(403);
      expect(b.body).toContain('169.254.169.254, a link-local address');
      // DNS rebinding to the local origin: the name is allowed, its answer is not, and nothing reaches it.
      const c = await viaProxy(port, `http://lo.example.com:${originPort}/`);
      expect(c.status).toBe(403);
      expect(p.records().egress).toEqual([
        expect.objectContaining({ host: 'api.example.com', port: 443, ip: '10.0.0.7', decision: 'deny' }),
        expect.objectContaining({ host: 'meta.example.com', port: 80, ip: '169.254.169.254', decision: 'deny' }),
        expect.objectContaining({ host: 'lo.example.com', port: originPort, ip: '127.0.0.1', decision: 'deny' }),
      ]);
      expect(seen).toEqual(['api.example.com', 'meta.example.com', 'lo.example.com']);
    });
  });

  it('connects to the address it checked: one lookup per connection, never a second one', async () => {
    let calls = 0;
    // A rebinding resolver: first answer public-looking... here the allowed literal route is localhost.
    const lookup: Lookup = async () => {
      calls++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    await withProxy([`localhost:${originPort}`], lookup, async (port, p) => {
      const r = await viaProxy(port, `http://localhost:${originPort}/x`);
      expect(r.status).toBe(200);
      expect(calls).toBe(1);
      expect(p.records().egress[0]).toMatchObject({ host: 'localhost', ip: '127.0.0.1', decision: 'allow' });
    });
  });

  it('something that is not an HTTP proxy request is refused and recorded', async () => {
    await withProxy([`127.0.0.1:${originPort}`], undefined, async (port, p) => {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let buf = '';
        s.setEncoding('utf8').on('data', (d: string) => (buf += d)).on('end', () => resolve(buf)).on('error', reject);
        s.write('\x16\x03\x01\x00\xa5raw tls hello\r\n\r\n');
      });
      expect(reply).toMatch(/^HTTP\/1.1 400/);
      expect(p.records().egress).toEqual([expect.objectContaining({ decision: 'deny', reason: 'not an HTTP proxy request' })]);
    });
  });
});
