import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

/**
 * In process, every way to a secret value is counted: the backend registry and the backends' factories.
 * doctor must reach none of them, whatever the grants reference.
 */
const calls = vi.hoisted(() => ({ registry: 0, get: 0, read: 0, factories: 0 }));


vi.mock('../../src/secrets/registry.js', () => ({
  createRegistry: () => {
    calls.registry++;
    return {
      get: async () => {
        calls.get++;
        return { name: 'counting', read: async () => (calls.read++, 'x') };
      },
    };
  },
}));
const countingFactory = vi.hoisted(() => () => ({
  createBackend: () => {
    calls.factories++;
    return { name: 'counting', read: async () => (calls.read++, 'x') };
  },
}));
vi.mock('../../adapters/local.js', countingFactory);
vi.mock('../../adapters/env.js', countingFactory);

const { runDoctor } = await import('../../src/cli/doctor.js');
const { createRegistry } = await import('../../src/secrets/registry.js');
const { resolveHomes } = await import('../../src/paths.js');

describe('doctor reads no secret', () => {
  let sb: Sandbox;
  beforeAll(() => {
    sb = makeSandbox(['acme']);
    sb.writeConfig(
      `storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(sb.projects.acme)}]\n    services:\n      s:\n        secrets: { A: "local:acme/a", B: "env:B_TOKEN", C: "keychain:svc/acct", D: "op://V/I/f" }\n`,
    );
    writeFileSync(join(sb.home, 'store.json'), JSON.stringify({ version: 1, keySource: 'file', keyId: '0123456789abcdef', entries: { 'acme/a': { iv: '', tag: '', data: '', updated: '' } } }));
    writeFileSync(join(sb.home, 'store.key'), 'not-a-key\n', { mode: 0o600 });
  });
  afterAll(() => sb.cleanup());

  it('reports on local, env, keychain and op references with the registry and backends untouched', async () => {
    const env = { OUTLOOP_HOME: sb.home, B_TOKEN: 'value-of-b-0123456789', PATH: '/nonexistent' };
    const r = await runDoctor({ homes: resolveHomes(env), env, cwd: sb.projects.acme!, builtinRecipesDir: join(sb.root, 'none'), platform: 'linux' });
    expect(r.tenant).toBe('acme');
    expect(r.backends.map((b) => b.backend)).toEqual(['env', 'keychain', 'local', 'op']);
    expect(r.findings.filter((f) => f.check === 'backend.local').map((f) => f.severity)).toEqual(['warn', 'ok']); // a key file is a warning, never a plain ok
    expect(r.findings.find((f) => f.check === 'backend.keychain')!.severity).toBe('fail');
    expect(JSON.stringify(r)).not.toContain('value-of-b-0123456789');
    expect(calls).toEqual({ registry: 0, get: 0, read: 0, factories: 0 });
  });

  it('a store the local backend would refuse (unknown key source) is a fail, read with the same parser', async () => {
    const bad = makeSandbox(['acme']);
    try {
      bad.writeConfig(`storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(bad.projects.acme)}]\n    services:\n      s:\n        secrets: { A: "local:acme/a" }\n`);
      writeFileSync(join(bad.home, 'store.json'), JSON.stringify({ version: 1, keySource: 'usb-stick', keyId: '0123456789abcdef', entries: {} }));
      const env = { OUTLOOP_HOME: bad.home, PATH: '/nonexistent' };
      const r = await runDoctor({ homes: resolveHomes(env), env, cwd: bad.projects.acme!, builtinRecipesDir: join(bad.root, 'none'), platform: 'linux' });
      const local = r.findings.filter((f) => f.check === 'backend.local');
      expect(local.map((f) => f.severity)).toEqual(['fail']);
      expect(local[0]!.message).toContain('cannot be read');
    } finally {
      bad.cleanup();
    }
  });

  it('the counters do count (the mocks are the modules the broker uses)', async () => {
    const reg = createRegistry({ env: {}, stateDir: sb.home, storeFile: '', storeKeyFile: '', storeKey: 'file' });
    await (await reg.get('local')).read({ backend: 'local', path: 'acme/a', raw: 'local:acme/a' });
    expect(calls).toMatchObject({ registry: 1, get: 1, read: 1 });
  });
});
