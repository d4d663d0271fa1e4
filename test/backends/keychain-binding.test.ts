/**
 * What the keychain backend asks of the native binding, with the binding replaced: the Secret Service pin
 * (a fallback to the kernel keyring cannot be provoked where the kernel keyring is itself refused, as in
 * most containers) and how platform failures become messages. Runs anywhere, no keyring needed.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BackendError, Exit } from '../../src/errors.js';
import { makeCtx, ref, secretValue } from '../store/helpers.js';

const binding = vi.hoisted(() => ({
  constructed: [] as unknown[][],
  construct: undefined as undefined | (() => void),
  getPassword: async (): Promise<string | null> => null,
  setPassword: async (_v: string): Promise<void> => {},
}));

vi.mock('@napi-rs/keyring', () => ({
  AsyncEntry: class {
    constructor(...args: unknown[]) {
      binding.constructed.push(args);
      binding.construct?.();
    }
    getPassword() {
      return binding.getPassword();
    }
    setPassword(v: string) {
      return binding.setPassword(v);
    }
    deleteCredential() {
      return Promise.resolve(false);
    }
  },
}));

const { createBackend } = await import('../../adapters/keychain.js');

// A bus address is all the D-Bus check looks for; the binding itself is the mock above.
const kc = () => createBackend(makeCtx('/nonexistent', { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/test-bus' } }));

describe('keychain backend and the native binding', () => {
  beforeEach(() => {
    binding.constructed.length = 0;
    binding.construct = undefined;
    binding.getPassword = async () => null;
    binding.setPassword = async () => {};
  });

  it('pins every entry to the Secret Service (never the kernel keyring) with SERVICE and ACCOUNT as given', async () => {
    binding.getPassword = async () => 'v';
    await kc().read(ref('keychain:github/me@example.com/cli'));
    await kc().write!(ref('keychain:stripe/acme'), 'v');
    expect(binding.constructed).toEqual([
      ['github', 'me@example.com/cli', { linux: { store: 'secret-service' } }],
      ['stripe', 'acme', { linux: { store: 'secret-service' } }],
    ]);
  });

  it('a binding that cannot open the store: exit 69 naming the reference, platform text only in cause', async () => {
    binding.construct = () => {
      throw new Error('Platform failure: DBus error: Failed to connect to socket /test-bus');
    };
    const err = (await kc().read(ref('keychain:stripe/acme')).catch((e: unknown) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'keychain_unavailable', exitCode: Exit.backendUnavailable });
    expect(err.message).toContain('keychain:stripe/acme');
    expect(err.message).not.toContain('DBus');
    expect((err.cause as Error).message).toContain('DBus');
  });

  it('a failed write never carries the value into the message, even if the platform echoed it', async () => {
    const v = secretValue('echo');
    binding.setPassword = async (value) => {
      throw new Error(`Couldn't set ${value}: NoStorageAccess`);
    };
    const err = (await kc().write!(ref('keychain:stripe/acme'), v).catch((e: unknown) => e)) as BackendError;
    expect(err).toMatchObject({ code: 'keychain_unavailable', exitCode: Exit.backendUnavailable });
    expect(err.message).toContain('keychain:stripe/acme');
    expect(`${err.message} ${err.next}`).not.toContain(v);
  });

  it('an empty item is an error, not an empty credential', async () => {
    binding.getPassword = async () => '';
    await expect(kc().read(ref('keychain:stripe/acme'))).rejects.toMatchObject({ code: 'secret_empty', exitCode: Exit.backendUnavailable });
  });
});
