import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARDER_PERL_SOURCE, FORWARDER_SOURCE, pickForwarder } from '../../src/sandbox/forwarder.js';
import { resolveSystemCommand } from '../../src/runner/which.js';
import { CI } from './helpers.js';

/**
 * Both forwarders (perl when the system has it, node otherwise) run here outside any sandbox, against a
 * stand-in proxy on a unix socket: the child reaches it through HTTP_PROXY, a large output on a shared
 * pipe survives a relayed connection (the FIONBIO bug), signals sent to the group reach the child and
 * not the forwarder, and the child's status comes back as the exit code.
 */
const perl = resolveSystemCommand('perl');
const dir = mkdtempSync(join(tmpdir(), 'outloop-fwd-'));
const sock = join(dir, 'proxy.sock');
const server = createServer((req, res) => res.end(`proxied ${req.method} ${req.url}\n`));
beforeAll(() => new Promise<void>((r) => server.listen(sock, r)));
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(kind: 'perl' | 'node', argv: string[], onReady?: (pid: number) => void) {
  const f = pickForwarder(kind === 'perl' ? perl : undefined, process.execPath);
  writeFileSync(join(dir, f.file), f.source);
  const c = spawn(f.argv(dir)[0]!, [...f.argv(dir).slice(1), sock, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { PATH: process.env.PATH ?? '' } });
  let out = 0;
  let text = '';
  let err = '';
  c.stdout.on('data', (d: Buffer) => {
    out += d.length;
    if (text.length < 4096) text += d.toString();
    if (onReady && text.includes('ready')) {
      onReady(c.pid!);
      onReady = undefined;
    }
  });
  c.stderr.on('data', (d: Buffer) => (err += d));
  return new Promise<{ code: number | null; out: number; text: string; err: string }>((r) => c.once('close', (code) => r({ code, out, text, err })));
}

// Nagle on the child's connection held a small write (a TLS reply after the proxy's session ticket)
// until the child's delayed ACK, 40 ms on each connection's first reply; whether a write waits is a
// matter of timing, so this checks that both forwarders turn it off on the socket they accept.
it('both forwarders send each piece to the child at once (TCP_NODELAY on the accepted connection)', () => {
  expect(FORWARDER_PERL_SOURCE).toMatch(/accept\(my \$c, \$srv\) or next;\s+(#.*\s+)*setsockopt\(\$c, IPPROTO_TCP, TCP_NODELAY, 1\);/);
  expect(FORWARDER_SOURCE).toContain('createServer({ noDelay: true }, (c) => {');
});

describe.each(['perl', 'node'] as const)('the %s forwarder', (kind) => {
  if (kind === 'perl' && !perl && !CI) return;

  it('relays the child to the proxy, keeps its large output whole, and passes its status on', async () => {
    if (kind === 'perl') expect(perl).toBeDefined();
    const script = 'curl -sS "http://example.test/a"; head -c 10485760 /dev/zero; curl -sS "http://example.test/b" >&2; exit 7';
    const r = await run(kind, ['sh', '-c', script]);
    expect(r.text).toContain('proxied GET http://example.test/a');
    expect(r.err).toContain('proxied GET http://example.test/b');
    expect(r.out).toBe(10485760 + 'proxied GET http://example.test/a\n'.length);
    expect(r.code).toBe(7);
  });

  it('gives the child NO_PROXY naming the forwarder alone, with its port (every other host goes through it)', async () => {
    const r = await run(kind, ['sh', '-c', 'printf "%s|%s|%s" "$HTTPS_PROXY" "$NO_PROXY" "$no_proxy"']);
    const [proxy, upper, lower] = r.text.split('|');
    expect(proxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(upper).toBe(new URL(proxy!).host);
    expect(lower).toBe(upper);
  });

  it('a signal to the group reaches the child, not the forwarder: 128+N', async () => {
    const r = await run(kind, ['sh', '-c', 'echo ready; sleep 5; echo survived'], (pid) => process.kill(-pid, 'SIGTERM'));
    expect(r.text).toBe('ready\n');
    expect(r.code).toBe(143);
  });
});
