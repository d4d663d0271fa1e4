/**
 * keychain:SERVICE/ACCOUNT against a real Secret Service, checked from the other side with secret-tool so
 * the items are the ones other tools make and read. Run under scripts/with-keyring.sh (CI does);
 * elsewhere the keyring suite skips unless CI=true, where a missing keyring fails (helpers/keyring.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackend, parseKeychainPath } from '../../adapters/keychain.js';
import { KeychainTimeoutError, withKeychainDeadline } from '../../adapters/os-keychain.js';
import { BackendError, Exit, UsageError } from '../../src/errors.js';
import type { SecretBackend } from '../../src/secrets/backend.js';
import { KEYRING_REQUIRED, keyring, requireKeyring, secretTool, skipWithoutKeyring } from '../helpers/keyring.js';
import { makeCtx, ref, secretValue } from '../store/helpers.js';

const backend = (env: NodeJS.ProcessEnv): SecretBackend => createBackend(makeCtx('/nonexistent', { env }));

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(Error);
  return err as Error;
}

describe('keychain references', () => {
  it('split on the first "/": the account may contain slashes', () => {
    expect(parseKeychainPath(ref('keychain:github/me@example.com/cli'))).toEqual({ service: 'github', account: 'me@example.com/cli' });
    expect(parseKeychainPath(ref('keychain:stripe/acme'))).toEqual({ service: 'stripe', account: 'acme' });
  });

  it.each(['keychain:stripe', 'keychain:stripe/', 'keychain:/acme'])('%s is a usage error naming the expected shape', async (raw) => {
    const err = await rejection(backend({}).read(ref(raw)));
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'bad_ref', exitCode: Exit.usage });
    expect(err.message).toContain('keychain:SERVICE/ACCOUNT');
  });

  it.skipIf(process.platform !== 'linux')('without a session bus: exit 69 naming the reference, and the binding is not asked', async () => {
    const err = await rejection(backend({}).read(ref('keychain:stripe/acme')));
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'keychain_unavailable', exitCode: Exit.backendUnavailable });
    expect(err.message).toContain('keychain:stripe/acme');
    expect(err.message).toContain('D-Bus session bus');
  });

  it('a keychain call that never answers ends at the deadline', async () => {
    const started = Date.now();
    const err = await rejection(withKeychainDeadline(50, () => new Promise<never>(() => {})));
    expect(err).toBeInstanceOf(KeychainTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await withKeychainDeadline(1_000, async () => 'answered')).toBe('answered');
  });
});

describe.skipIf(skipWithoutKeyring)('keychain backend in a real Secret Service', () => {
  let service: string;
  const made: string[][] = [];

  beforeEach(() => {
    // A service of its own per test, so runs never meet each other's items.
    service = `outloop-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  });
  afterEach(() => {
    for (const attrs of made.splice(0)) secretTool(['clear', ...attrs]);
  });

  function attrs(account: string, ...extra: string[]): string[] {
    const a = ['service', service, 'username', account, ...extra];
    made.push(a);
    return a;
  }

  it('has a Secret Service to test against', () => {
    expect(keyring.ok, KEYRING_REQUIRED).toBe(true);
  });

  it('reads an item stored by secret-tool (account containing "/")', async () => {
    requireKeyring();
    const v = secretValue('kc');
    const stored = secretTool(['store', '--label=outloop test', ...attrs('ci/deploy')], v);
    expect(stored.status, stored.stderr).toBe(0);
    expect(await backend(process.env).read(ref(`keychain:${service}/ci/deploy`))).toBe(v);
  });

  it('writes an item secret-tool lookup returns, and overwrites it in place', async () => {
    requireKeyring();
    const kc = backend(process.env);
    const r = ref(`keychain:${service}/acme`);
    const first = secretValue('w1');
    await kc.write!(r, first);
    const a = attrs('acme');
    expect(secretTool(['lookup', ...a]).stdout).toBe(first);

    const second = secretValue('w2');
    await kc.write!(r, second);
    expect(secretTool(['lookup', ...a]).stdout).toBe(second);
    // One item, not two: a second one would make every later read ambiguous.
    const listed = secretTool(['search', '--all', ...a]);
    expect(listed.stdout.match(/^secret = /gm)).toHaveLength(1);
    expect(await kc.read(r)).toBe(second);
  });

  it('a missing item is secret_not_found, exit 69, naming the reference and how to store it', async () => {
    requireKeyring();
    const raw = `keychain:${service}/nobody`;
    const err = await rejection(backend(process.env).read(ref(raw)));
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'secret_not_found', exitCode: Exit.backendUnavailable, backend: 'keychain' });
    expect(err.message).toContain(`no item in the OS keychain for service "${service}" account "nobody"`);
    expect(err.message).toContain(raw);
    const next = (err as BackendError).next ?? '';
    expect(next).toContain(`outloop secrets set ${raw}`);
    expect(next).toContain(`secret-tool store --label=`);
    expect(next).toContain(`service ${service} username nobody`);
  });

  it('remove deletes the item, and says false when there was none', async () => {
    requireKeyring();
    const kc = backend(process.env);
    const r = ref(`keychain:${service}/gone`);
    await kc.write!(r, secretValue('rm'));
    const a = attrs('gone');
    expect(secretTool(['lookup', ...a]).status).toBe(0);

    expect(await kc.remove!(r)).toBe(true);
    expect(secretTool(['lookup', ...a]).stdout).toBe('');
    expect(await kc.remove!(r)).toBe(false);
    await expect(kc.read(r)).rejects.toMatchObject({ code: 'secret_not_found' });
  });

  it('refuses to store an empty value', async () => {
    requireKeyring();
    const r = ref(`keychain:${service}/empty`);
    await expect(backend(process.env).write!(r, '')).rejects.toMatchObject({ code: 'empty_value' });
    expect(secretTool(['lookup', ...attrs('empty')]).status).not.toBe(0);
  });

  it('two matching items: a clear error that shows neither value', async () => {
    requireKeyring();
    const v1 = secretValue('a1');
    const v2 = secretValue('a2');
    secretTool(['store', '--label=one', ...attrs('twice', 'copy', '1')], v1);
    secretTool(['store', '--label=two', ...attrs('twice', 'copy', '2')], v2);
    const err = await rejection(backend(process.env).read(ref(`keychain:${service}/twice`)));
    expect(err).toMatchObject({ code: 'keychain_ambiguous', exitCode: Exit.backendUnavailable });
    const shown = `${err.message} ${(err as BackendError).next}`;
    expect(shown).toContain(`keychain:${service}/twice`);
    expect(shown).not.toContain(v1);
    expect(shown).not.toContain(v2);
  });
});
