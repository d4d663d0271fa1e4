import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * Large output through a sandboxed exec whose recipe has hosts (issue 18 item 1). The forwarder inside
 * the sandbox shares the child's stdout and stderr; once it made them non-blocking, curl's writes got
 * EAGAIN past a pipe's worth of output and it failed with "(23) Failure writing output to destination".
 * 10 MiB is collected whole; 200 MB is piped to a counting sink, as a person's `| wc -c` would.
 */
const MIB = 1024 * 1024;

describe.skipIf(skipWithoutBwrap)('large output from a sandboxed child with hosts', () => {
  let e: E2E;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    requireBwrap();
    e = makeE2E(['acme']);
    const block = Buffer.alloc(64 * 1024, 'outloop-large-output-line-0123456789abcdef\n');
    server = createServer((req, res) => {
      let left = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(left) });
      const more = () => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    e.writeRecipe(
      'big',
      `service: big
hosts: ["127.0.0.1:${port}"]
recipes:
  get:
    description: download a body of the asked size
    risk: read
    params:
      bytes: { type: integer, min: 1, max: 300000000 }
    run: [curl, -sS, --fail, "http://127.0.0.1:${port}/big?bytes={{params.bytes}}"]
    maxOutput: 256MiB
    timeout: 120s
`,
    );
    e.writeConfig(configYaml(e, { acme: 'big:\n  allow: ["*"]' }));
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    e?.cleanup();
  });

  it('10 MiB arrives whole', async () => {
    const n = 10 * MIB;
    const r = await e.cli(['exec', 'big.get', '-p', `bytes=${n}`], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Buffer.byteLength(r.stdout)).toBe(n);
    const end = e.audit().filter((a) => a.recipe === 'get' && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ exitCode: 0, sandbox: 'bwrap', egressEnforced: true });
  }, 70_000);

  it('200 MB piped to a counting sink arrives whole', async () => {
    const n = 200_000_000;
    const child = spawn(process.execPath, [BIN, 'exec', 'big.get', '-p', `bytes=${n}`], { cwd: e.projects.acme, env: e.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let count = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (count += d.length));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    const status = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    clearTimeout(killer);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(count).toBe(n);
  }, 160_000);
});
