import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * Every keychain call ends by its limit (issue 19 item 4), against a fake session bus that accepts the
 * connection and never answers: the keychain: backend, and a local: store whose key lives in the
 * keychain. The binding connects synchronously on the main thread, so without the non-blocking greeting
 * outloop froze where no timer could fire. OUTLOOP_KEYCHAIN_TIMEOUT_MS shortens the limit for the test.
 */
const RECIPES = `service: kc
secrets: [TOKEN]
recipes:
  show:
    description: uses the secret
    run: [sh, -c, 'echo "len=\${#T}"']
    env: { T: "{{secrets.TOKEN}}" }
`;

describe.skipIf(process.platform !== 'linux')('a session bus that never answers', () => {
  let e: E2E;
  let server: Server;
  const held: Socket[] = [];
  let busEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    e.writeRecipe('kc', RECIPES);
    e.writeConfig(configYaml(e, {
      acme: 'kc:\n  secrets: { TOKEN: "keychain:outloop-test/acme" }\n  allow: ["*"]\n  sandbox: off',
      globex: 'kc:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]\n  sandbox: off',
    }));
    const sock = join(e.root, 'fake-bus');
    server = createServer((s) => {
      held.push(s);
      s.on('data', () => {}); // read the greeting, answer nothing
    });
    await new Promise<void>((r) => server.listen(sock, r));
    busEnv = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock},guid=0123456789abcdef`, OUTLOOP_KEYCHAIN_TIMEOUT_MS: '700' };
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => server?.close(() => r()));
    e?.cleanup();
  });

  it('keychain: backend: exit 69 backend_timeout at the limit, nothing run', async () => {
    const r = await e.cli(['exec', 'kc.show', '--json'], { env: busEnv, timeoutMs: 20_000 });
    expect(r.signal, 'outloop hung and was killed').toBeNull();
    expect(r.status).toBe(69);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    expect(env.code).toBe('backend_timeout');
    expect(env.reason).toContain('did not answer within 0.7 s');
    expect(r.ms).toBeLessThan(10_000);
    expect(held.length).toBeGreaterThan(0);
  });

  it('local: store whose key lives in the keychain: exit 69 backend_timeout at the limit', async () => {
    await e.setSecret('local:globex/token', 'globex-token-value-123456');
    // The store was made with a file key (no keyring here); record its key as kept in the keychain.
    const file = join(e.home, 'store.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { keySource: string };
    doc.keySource = 'keychain';
    writeFileSync(file, JSON.stringify(doc));
    const before = held.length;
    const r = await e.cli(['exec', 'kc.show', '--json'], { cwd: e.projects.globex, env: busEnv, timeoutMs: 20_000 });
    expect(r.signal, 'outloop hung and was killed').toBeNull();
    expect(r.status).toBe(69);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    expect(env.code).toBe('backend_timeout');
    expect(env.reason).toContain('within 0.7 s');
    expect(held.length).toBeGreaterThan(before);
  });
});
