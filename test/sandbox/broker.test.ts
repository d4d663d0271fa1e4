import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleRequest } from '../../src/broker/exec.js';
import type { Lookup } from '../../src/sandbox/proxy.js';
import { countingBackends, makeHome, useTempDirs } from '../core/helpers.js';
import { requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * Through the library (handleRequest) with a counting registry and an injected resolver: a name that is
 * allowed but resolves to an inside address is refused on the wire and on record; `required` with no
 * sandbox is denied with zero backend calls.
 */
const tempDir = useTempDirs();
const TOKEN = 'broker-sandbox-token-4e1d2c3b4a59';
let origin: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  origin = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('inside service reached\n');
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  port = (origin.address() as { port: number }).port;
});
afterAll(() => origin?.close());

function setup(grantExtra = '') {
  const root = tempDir();
  const home = makeHome(root);
  const project = join(root, 'acme');
  mkdirSync(project, { recursive: true });
  // `rebind.example` is allowed by name; the injected resolver answers with the loopback address of the
  // local server, as a rebinding attacker's DNS would.
  writeFileSync(
    join(home.homes.recipesDir, 'fetch.sh'),
    [
      `echo "rebind=$(curl -sS -o /dev/null -w '%{http_code}' http://rebind.example:${port}/rebind)"`,
      `echo "tls=$(curl -sS -o /dev/null -w '%{http_code}' https://meta.example/ 2>&1 | tail -c 40)"`,
    ].join('\n'),
  );
  home.writeRecipe(
    'net',
    `service: net
hosts: ["rebind.example:${port}", meta.example]
secrets: [TOKEN]
recipes:
  fetch:
    description: a script reaching names the test resolver answers
    risk: read
    run: [sh, "{{recipe.dir}}/fetch.sh"]
    env: { T: "{{secrets.TOKEN}}" }
    timeout: 20s
`,
  );
  home.writeConfig(`storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(project)}]\n    services:\n      net:\n        secrets: { TOKEN: "env:T" }\n        allow: ["*"]\n${grantExtra}`);
  return { home, project };
}

describe.skipIf(skipWithoutBwrap)('sandboxed run through the broker', () => {
  beforeAll(() => requireBwrap());

  it('a name that resolves to a private or link-local address is refused and recorded, though the name is allowed', async () => {
    const { home, project } = setup();
    const b = countingBackends({ 'env:T': TOKEN });
    const asked: string[] = [];
    const egressLookup: Lookup = async (h) => {
      asked.push(h);
      return [{ address: h === 'meta.example' ? '169.254.169.254' : '127.0.0.1', family: 4 }];
    };
    const out = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'exec' }, { ...home.deps(project, b.factory), egressLookup });
    if (out.kind !== 'ran') throw new Error(`expected a run, got ${out.kind}`);
    expect(out.stdout).toContain('rebind=403');
    expect(out.stdout).toMatch(/tls=.*403/);
    expect(hits).toEqual([]);
    expect(asked.sort()).toEqual(['meta.example', 'rebind.example']);
    const end = home.audit().at(-1)!;
    expect(end).toMatchObject({ phase: 'end', sandbox: 'bwrap', egressEnforced: true });
    expect(end.egress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ host: 'rebind.example', port, ip: '127.0.0.1', decision: 'deny', reason: expect.stringContaining('a loopback address') }),
        expect.objectContaining({ host: 'meta.example', port: 443, ip: '169.254.169.254', decision: 'deny', reason: expect.stringContaining('a link-local address') }),
      ]),
    );
    expect(home.auditText()).not.toContain(TOKEN);
  });

  it('sandbox: required on a machine without one is denied before any backend call', async () => {
    const { home, project } = setup('        sandbox: required\n');
    const b = countingBackends({ 'env:T': TOKEN });
    const out = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'exec' }, { ...home.deps(project, b.factory), sandboxAvailable: false });
    if (out.kind !== 'denied') throw new Error(`expected a denial, got ${out.kind}`);
    expect(out.decision.code).toBe('sandbox_unavailable');
    expect(out.exitCode).toBe(77);
    expect(out.decision.reason).toContain('tenants.acme.services.net.sandbox requires a sandbox');
    expect(b.state.gets).toBe(0);
    expect(b.state.reads).toEqual([]);
    expect(home.audit()).toEqual([expect.objectContaining({ decision: 'deny', code: 'sandbox_unavailable' })]);
  });

  it('the tenant\'s mode applies unless the grant says otherwise', async () => {
    const { home, project } = setup();
    home.writeConfig(
      `storeKey: file\ntenants:\n  acme:\n    sandbox: required\n    projects: [${JSON.stringify(project)}]\n    services:\n      net:\n        secrets: { TOKEN: "env:T" }\n        allow: ["*"]\n`,
    );
    const b = countingBackends({ 'env:T': TOKEN });
    const bare = { ...home.deps(project, b.factory), sandboxAvailable: false };
    const denied = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'check' }, bare);
    expect(denied.kind === 'checked' && !denied.decision.allow && denied.decision.code).toBe('sandbox_unavailable');
    home.writeConfig(
      `storeKey: file\ntenants:\n  acme:\n    sandbox: required\n    projects: [${JSON.stringify(project)}]\n    services:\n      net:\n        secrets: { TOKEN: "env:T" }\n        allow: ["*"]\n        sandbox: off\n`,
    );
    const off = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'check' }, { ...bare });
    expect(off.kind === 'checked' && off.decision.allow).toBe(true);
    expect(b.state.gets).toBe(0);
  });

  it('a declared sandbox path that does not exist is a clear config error (78), not a bwrap message', async () => {
    const { home, project } = setup();
    home.writeRecipe('gone', `service: gone\nrecipes:\n  x:\n    description: x\n    risk: read\n    run: ["true"]\n    sandbox: { paths: [{ path: "{{project}}/missing-folder" }] }\n`);
    home.writeConfig(`storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(project)}]\n    services:\n      gone:\n        allow: ["*"]\n`);
    const b = countingBackends({});
    const err = await handleRequest({ service: 'gone', recipe: 'x', params: {}, mode: 'exec' }, home.deps(project, b.factory)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sandbox_path_missing', exitCode: 78 });
    expect((err as Error).message).toContain(`${project}/missing-folder`);
    expect(home.audit().at(-1)).toMatchObject({ phase: 'end', decision: 'error', code: 'sandbox_path_missing' });
  });

  it('auto on a machine without a sandbox runs behind the proxy only, and says the allow-list was advisory', async () => {
    const { home, project } = setup();
    const b = countingBackends({ 'env:T': TOKEN });
    const bare = { ...home.deps(project, b.factory), sandboxAvailable: false, egressLookup: (async () => [{ address: '127.0.0.1', family: 4 }]) as Lookup };
    const chk = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'check' }, bare);
    expect(chk.kind === 'checked' && chk.decision.gates.find((g) => g.name === 'hosts')?.detail).toContain('ADVISORY here');
    const out = await handleRequest({ service: 'net', recipe: 'fetch', params: {}, mode: 'exec' }, bare);
    if (out.kind !== 'ran') throw new Error(`expected a run, got ${out.kind}`);
    // curl honours the proxy variables, so the proxy still refuses the rebinding answer: advisory, not absent.
    expect(out.stdout).toContain('rebind=403');
    expect(home.audit().at(-1)).toMatchObject({ phase: 'end', sandbox: 'none', sandboxMode: 'auto', egressEnforced: false });
    expect(hits).toEqual([]);
  });
});
