import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runImport, type ImportDeps } from '../../src/cli/import.js';
import { BackendError, OutloopError } from '../../src/errors.js';
import { resolveHomes } from '../../src/paths.js';
import type { BackendRegistry, SecretBackend, SecretRef } from '../../src/secrets/backend.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

/**
 * The import's failure paths, in process with a backend that fails on demand: what was stored is bound,
 * what was not is not, and the report says which is which without a value in it.
 */
const VALUES = { A_KEY: 'value-a-0123456789abcdef', B_KEY: 'value-b-0123456789abcdef', C_KEY: 'value-c-0123456789abcdef' };
const CONFIG = `# keep me
storeKey: file
tenants:
  acme:
    projects: [PROJECT]
`;

function fakeBackend(failOnWrite: number, stored: string[] = []): SecretBackend & { writes: string[] } {
  const writes: string[] = [];
  return {
    name: 'local',
    writes,
    async read(): Promise<string> {
      throw new Error('import must never read');
    },
    async write(ref: SecretRef): Promise<void> {
      if (writes.length + 1 === failOnWrite) throw new BackendError('local', 'the disk is full', { code: 'store_write_failed' });
      writes.push(ref.raw);
    },
    async list() {
      return stored;
    },
  };
}

async function attempt(fn: () => Promise<number>): Promise<{ code: number; err?: OutloopError }> {
  try {
    return { code: await fn() };
  } catch (err) {
    if (err instanceof OutloopError) return { code: err.exitCode, err };
    throw err;
  }
}

describe('secrets import, failure paths', () => {
  let sb: Sandbox;
  let envFile: string;
  let out: string;
  const deps = (registry: BackendRegistry): ImportDeps => ({
    homes: resolveHomes({ OUTLOOP_HOME: sb.home }),
    env: { OUTLOOP_HOME: sb.home },
    cwd: sb.projects.acme!,
    builtinRecipesDir: join(sb.root, 'no-builtins'),
    backends: () => registry,
    out: (s) => (out += s),
  });
  const configText = () => readFileSync(join(sb.home, 'config.yaml'), 'utf8');

  beforeEach(() => {
    sb = makeSandbox(['acme']);
    sb.writeConfig(CONFIG.replace('PROJECT', JSON.stringify(sb.projects.acme)));
    envFile = join(sb.projects.acme!, '.env');
    writeFileSync(envFile, Object.entries(VALUES).map(([k, v]) => `${k}=${v}\n`).join(''));
    out = '';
  });
  afterEach(() => sb.cleanup());

  it('a write failing midway: exit 69, only the stored values are bound, and the error says which moved', async () => {
    const backend = fakeBackend(2);
    const r = await attempt(() => runImport(envFile, { service: 'api' }, deps({ get: async () => backend })));
    expect(r.code).toBe(69);
    expect(backend.writes).toEqual(['local:acme/api/a_key']);
    const cfg = configText();
    expect(cfg).toContain('A_KEY: local:acme/api/a_key');
    expect(cfg).not.toContain('B_KEY');
    expect(cfg).not.toContain('C_KEY');
    expect(cfg.startsWith('# keep me\n')).toBe(true);
    expect(r.err!.message).toMatch(/storing B_KEY .* failed: the disk is full\. A_KEY moved and bound; B_KEY, C_KEY not moved/);
    expect(out).toContain('Moved 1 variable');
    expect(out).toContain('A_KEY');
    for (const v of Object.values(VALUES)) expect(`${out}${r.err!.message}${cfg}`).not.toContain(v);
  });

  it('the first write failing leaves config.yaml byte for byte as it was', async () => {
    const before = configText();
    const r = await attempt(() => runImport(envFile, { service: 'api' }, deps({ get: async () => fakeBackend(1) })));
    expect(r.code).toBe(69);
    expect(r.err!.message).toContain('nothing was moved');
    expect(configText()).toBe(before);
    expect(out).toBe('');
  });

  it('a backend that cannot be loaded fails before anything is written', async () => {
    const before = configText();
    const r = await attempt(() =>
      runImport(envFile, { service: 'api', to: 'keychain' }, deps({ get: async (n) => Promise.reject(new BackendError(n, `the ${n} secret backend is not available`, { code: 'backend_not_supported' })) })),
    );
    expect(r.code).toBe(69);
    expect(r.err!.code).toBe('backend_not_supported');
    expect(configText()).toBe(before);
  });

  it('a value already stored at a target reference is not overwritten without --force', async () => {
    const backend = fakeBackend(0, ['local:acme/api/b_key']);
    const r = await attempt(() => runImport(envFile, { service: 'api' }, deps({ get: async () => backend })));
    expect(r.code).toBe(64);
    expect(r.err!.code).toBe('binding_exists');
    expect(r.err!.message).toContain('a value is already stored at local:acme/api/b_key');
    expect(backend.writes).toEqual([]);
    const forced = await attempt(() => runImport(envFile, { service: 'api', force: true }, deps({ get: async () => backend })));
    expect(forced.code).toBe(0);
    expect(backend.writes).toEqual(['local:acme/api/a_key', 'local:acme/api/b_key', 'local:acme/api/c_key']);
  });

  it('keychain references follow keychain:outloop-TENANT/SERVICE/NAME', async () => {
    const backend = { ...fakeBackend(0), name: 'keychain' };
    expect((await attempt(() => runImport(envFile, { service: 'api', to: 'keychain' }, deps({ get: async () => backend })))).code).toBe(0);
    expect(backend.writes).toEqual(['keychain:outloop-acme/api/A_KEY', 'keychain:outloop-acme/api/B_KEY', 'keychain:outloop-acme/api/C_KEY']);
    expect(configText()).toContain('A_KEY: keychain:outloop-acme/api/A_KEY');
  });

  it.each([
    ['no tenant here and no --tenant', () => ({ cwd: sb.root }), {}, 'no_tenant'],
    ['an unknown --tenant', () => ({}), { tenant: 'nobody' }, 'unknown_tenant'],
    ['a bad service name', () => ({}), { service: 'Bad Name' }, 'usage'],
    ['a name that is not UPPER_SNAKE_CASE', () => (writeFileSync(envFile, 'A_KEY=1\nlower=2\n'), {}), {}, 'bad_name'],
    ['a file that does not parse', () => (writeFileSync(envFile, 'A_KEY="open\n'), {}), {}, 'bad_dotenv'],
    ['a missing file', () => (writeFileSync(envFile, ''), { file: join(sb.root, 'nope.env') }), {}, 'file_unreadable'],
    ['only empty values', () => (writeFileSync(envFile, 'A_KEY=\nB_KEY=""\n'), {}), {}, 'nothing_to_import'],
  ])('%s: exit 64, nothing written', async (_what, setup, flags, code) => {
    const before = configText();
    const over = setup() as { cwd?: string; file?: string };
    const backend = fakeBackend(0);
    const r = await attempt(() => runImport(over.file ?? envFile, { service: 'api', ...flags }, { ...deps({ get: async () => backend }), ...(over.cwd ? { cwd: over.cwd } : {}) }));
    expect({ code: r.code, err: r.err?.code }).toEqual({ code: 64, err: code });
    expect(backend.writes).toEqual([]);
    expect(configText()).toBe(before);
  });
});
