import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_PROXY_PRELOAD } from '../../src/placeholder/node-proxy.js';

/**
 * The preload for node children (node-proxy.ts) sets fetch's dispatcher up only when it is first needed:
 * a fetch, or a read of undici's global dispatcher, still goes through the proxy; a dispatcher the program
 * set before is kept. (A program whose own environment sets NODE_USE_ENV_PROXY=1 on node 22.21+/24.5+
 * keeps node's proxying dispatcher; its https agents still tunnel here.)
 */
const run = promisify(execFile);
let dir: string;
let proxy: Server;
let port: number;
const connects: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-preload-'));
  writeFileSync(join(dir, 'node-proxy.cjs'), NODE_PROXY_PRELOAD);
  proxy = createServer();
  // Every CONNECT is recorded and refused: what matters is that it came here.
  proxy.on('connect', (req, sock) => {
    connects.push(req.url!);
    sock.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  port = (proxy.address() as { port: number }).port;
});
afterAll(() => {
  proxy?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function child(src: string): Promise<string> {
  connects.length = 0;
  const env = { PATH: process.env.PATH, HTTPS_PROXY: `http://127.0.0.1:${port}`, NODE_USE_ENV_PROXY: '0' };
  const { stdout } = await run(process.execPath, ['--require', join(dir, 'node-proxy.cjs'), '--input-type=module', '-e', src], { env });
  return stdout;
}

describe('node preload: fetch through the proxy, set up at first use', () => {
  it('a fetch goes through CONNECT to the proxy', async () => {
    const out = await child(`await fetch('https://api.example.test:8443/x').catch((e) => console.log('refused', /403/.test(String(e.cause?.message ?? e.message))));`);
    expect(out).toBe('refused true\n');
    expect(connects).toEqual(['api.example.test:8443']);
  });

  it("undici's global dispatcher read before any fetch is already the proxy's", async () => {
    const out = await child([
      `const d = globalThis[Symbol.for('undici.globalDispatcher.1')];`,
      `console.log(typeof d?.dispatch);`,
      `await fetch('https://other.example.test/').catch(() => {});`,
      `console.log(globalThis[Symbol.for('undici.globalDispatcher.1')] === d);`,
    ].join('\n'));
    expect(out).toBe('function\ntrue\n');
    expect(connects).toEqual(['other.example.test:443']);
  });

  // Node loads undici for these too, and undici reads its global dispatcher while it is still loading:
  // the preload must neither crash the program (it did: "fetchImpl is not a function") nor lose the tunnel.
  const refused = `(e) => console.log('refused', /403/.test(String(e.cause?.message ?? e.message)))`;
  it.each([
    ['Headers made before the first fetch', `new Headers({ a: 'b' });\nawait fetch('https://h.example.test/').catch(${refused});`, 'h.example.test:443'],
    ['an ES import of node:http (its WebSocket export loads undici on node 22 and 24)', `import http from 'node:http';\nconsole.log(typeof http.request);\nawait fetch('https://i.example.test/').catch(${refused});`, 'i.example.test:443'],
    ['a Response, then a fetch in the same turn', `new Response('x');\nconst p = fetch('https://t.example.test/').catch(${refused});\nawait p;`, 't.example.test:443'],
  ])('%s: the program runs, and the fetch goes through the proxy', async (_what, src, host) => {
    const out = await child(src);
    expect(out.split('\n').filter((l) => l.startsWith('refused'))).toEqual(['refused true']);
    expect(connects).toEqual([host]);
  });

  it("after a load for Headers, undici's global dispatcher is the proxy's once the turn is over", async () => {
    const out = await child([
      `new Headers();`,
      `await null;`,
      `const d = globalThis[Symbol.for('undici.globalDispatcher.1')];`,
      `await fetch('https://d.example.test/').catch(() => {});`,
      `console.log(globalThis[Symbol.for('undici.globalDispatcher.1')] === d);`,
    ].join('\n'));
    expect(out).toBe('true\n');
    expect(connects).toEqual(['d.example.test:443']);
  });

  it('a dispatcher the program sets before its first fetch is kept', async () => {
    const out = await child([
      `const key = Symbol.for('undici.globalDispatcher.1');`,
      `const mine = { dispatch(o, h) { console.log('mine', o.origin); h.onError(new Error('no')); return true; }, on() { return this; }, close() {}, destroy() {} };`,
      `Object.defineProperty(globalThis, key, { value: mine, writable: true, configurable: false });`,
      `await fetch('https://api.example.test/').catch(() => {});`,
      `console.log(globalThis[key] === mine);`,
    ].join('\n'));
    expect(out).toBe('mine https://api.example.test\ntrue\n');
    expect(connects).toEqual([]);
  });
});
