import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNotes, networkNotes } from '../../src/sandbox/egress-notes.js';
import { EgressProxy } from '../../src/sandbox/proxy.js';
import { outcomeResult } from '../../src/mcp/tools.js';
import type { BrokerOutcome } from '../../src/broker/exec.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * Issue 17 item 1: when the egress proxy refuses or cannot reach a host, the agent and the person see why
 * and what to do, not only curl's "CONNECT tunnel failed, response 403".
 */
describe('network notes from the proxy records', () => {
  it('each kind of refusal has its code, reason and next step; repeats are counted', async () => {
    const p = new EgressProxy({
      hosts: ['api.example.com', 'inside.example.com', 'gone.example.com'],
      label: 'example.get-status',
      lookup: async (h) => {
        if (h === 'inside.example.com') return [{ address: '10.1.2.3', family: 4 }];
        throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
      },
    });
    const url = await p.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(url).port);
    const connectTo = (authority: string) =>
      new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        s.on('data', (d: Buffer) => (got += d));
        s.on('close', () => resolve(got.split('\r\n')[0]!));
        s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      });
    expect(await connectTo('evil.example:443')).toBe('HTTP/1.1 403 Forbidden');
    expect(await connectTo('evil.example:443')).toBe('HTTP/1.1 403 Forbidden');
    expect(await connectTo('api.example.com:443')).toBe('HTTP/1.1 403 Forbidden');
    expect(await connectTo('inside.example.com:443')).toBe('HTTP/1.1 403 Forbidden');
    await p.close();

    const notes = networkNotes(p.records().egress, { label: 'example.get-status', hosts: ['api.example.com'], source: '/home/me/.config/outloop/recipes/example.yaml' });
    expect(notes.map((n) => [n.code, n.host, n.count])).toEqual([
      ['egress_not_allowed', 'evil.example', 2],
      ['egress_does_not_resolve', 'api.example.com', 1],
      ['egress_private_address', 'inside.example.com', 1],
    ]);
    expect(notes[0]!.next).toContain('add it to hosts in /home/me/.config/outloop/recipes/example.yaml (allowed now: api.example.com)');
    expect(notes[1]!.reason).toContain('api.example.com does not resolve (ENOTFOUND)');
    expect(notes[1]!.next).toContain('getent hosts api.example.com');
    expect(notes[2]!.next).toContain('"10.1.2.3:443"');
    expect(formatNotes(notes)).toMatch(/^outloop: network: egress to evil\.example:443 was refused: .* \(2 times\) \[egress_not_allowed\]\nnext: /);
  });

  it('MCP results carry the notes in the text and as structuredContent.network', () => {
    const network = networkNotes([{ host: 'evil.example', port: 443, ip: null, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: 'not in hosts', refusal: 'not_allowed' }], { label: 'x.y', hosts: [] });
    const out = { kind: 'ran', auditId: 'ol_x', exitCode: 56, timedOut: false, redactions: 0, durationMs: 1, stdout: '', stderr: 'curl: (56) CONNECT tunnel failed, response 403\n', network,
      plan: { recipe: { timeoutMs: 1000 } } } as unknown as BrokerOutcome;
    const r = outcomeResult(out);
    expect(r.structuredContent).toMatchObject({ ok: false, exitCode: 56, network: [{ code: 'egress_not_allowed', host: 'evil.example' }] });
    expect(r.content.map((c) => c.text).join('\n')).toContain('network: egress to evil.example:443 was refused: not in hosts [egress_not_allowed]\nnext: ');
  });
});

describe.skipIf(skipWithoutBwrap)('a refused or failed connection, end to end', () => {
  let e: E2E;
  let api: Server;
  let apiPort: number;
  let closedPort: number;

  beforeAll(async () => {
    requireBwrap();
    e = makeE2E(['acme']);
    api = createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiPort = (api.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    // In a script, so the argv host gate cannot see the URL: only the proxy stands in the way.
    writeFileSync(join(e.home, 'recipes', 'other.sh'), `exec curl -sS https://127.0.0.1:${apiPort}/x\n`);
    e.writeRecipe(
      'net',
      `service: net
hosts: ["127.0.0.1:${closedPort}"]
recipes:
  other:
    description: a host outside hosts
    risk: read
    run: [sh, "{{recipe.dir}}/other.sh"]
  down:
    description: an allowed host that does not answer
    risk: read
    run: [curl, -sS, "https://127.0.0.1:${closedPort}/x"]
`,
    );
    e.writeConfig(configYaml(e, { acme: 'net:\n  allow: ["*"]\n  run: true\n  sandbox: required' }));
  }, 60_000);
  afterAll(async () => {
    api?.close();
    e?.cleanup();
  });

  it('a host not in hosts: stderr and --json say so, with the next step', async () => {
    const r = await e.cli(['exec', 'net.other']);
    expect(r.status).toBe(56);
    expect(r.stderr).toContain('curl: (56) CONNECT tunnel failed, response 403');
    expect(r.stderr).toContain(`outloop: network: egress to 127.0.0.1:${apiPort} was refused: not in hosts of net.other: 127.0.0.1:${closedPort} [egress_not_allowed]\nnext: If net.other really needs 127.0.0.1:${apiPort}, ask a person to add it to hosts in `);
    const j = JSON.parse((await e.cli(['exec', 'net.other', '--json'])).stdout);
    expect(j).toMatchObject({ ok: false, decision: 'allow', exitCode: 56, network: [{ code: 'egress_not_allowed', host: '127.0.0.1', port: apiPort, count: 1 }] });
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['ok', 'decision', 'exitCode', 'stdout', 'stderr', 'redactions', 'auditId']));
  });

  it('outloop run says the same for a wrapped command', async () => {
    const r = await e.cli(['run', '--service', 'net', '--no-pty', '--', 'curl', '-sS', `https://127.0.0.1:${apiPort}/x`]);
    expect(r.status).toBe(56);
    expect(r.stderr).toContain(`outloop: network: egress to 127.0.0.1:${apiPort} was refused: not in hosts of net: 127.0.0.1:${closedPort} [egress_not_allowed]`);
  });

  it('an allowed host that refuses the connection: upstream_failed', async () => {
    const r = await e.cli(['exec', 'net.down', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.exitCode).not.toBe(0);
    expect(j.network).toEqual([expect.objectContaining({ code: 'egress_upstream_failed', host: '127.0.0.1', port: closedPort })]);
    expect(j.network[0].reason).toContain('ECONNREFUSED');
  });
});
