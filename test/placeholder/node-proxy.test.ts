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
