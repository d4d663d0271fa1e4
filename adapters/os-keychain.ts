/**
 * The one way outloop opens an OS keychain item (macOS Keychain, Windows Credential Manager, Secret
 * Service on Linux), shared by the local store's key custody (store-key.ts) and the keychain: backend.
 * Callers turn the failures into their own BackendError, since only they know which reference (or
 * store) the person is waiting on and what to do about it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The part of @napi-rs/keyring's AsyncEntry outloop uses. */
export interface KeychainEntry {
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
  deleteCredential(signal?: AbortSignal | null): Promise<boolean>;
}

/** Linux only: there is no session bus, so no Secret Service could answer. */
export class NoSessionBusError extends Error {
  constructor() {
    super('no OS keychain is reachable: there is no D-Bus session bus for a Secret Service (gnome-keyring, KWallet)');
    this.name = 'NoSessionBusError';
  }
}

/**
 * The entry for service/account. Throws NoSessionBusError when Linux has no bus to ask, or whatever the
 * binding throws when it cannot be loaded or the Secret Service is not there.
 */
export async function openKeychainEntry(env: NodeJS.ProcessEnv, service: string, account: string): Promise<KeychainEntry> {
  // Without a session bus there is no Secret Service to ask; checking first also spares loading the binding.
  if (process.platform === 'linux' && !hasSessionBus(env)) throw new NoSessionBusError();
  // Loaded only here: the native module costs tens of milliseconds that other backends never pay.
  const { AsyncEntry } = await import('@napi-rs/keyring');
  // Pinned to the Secret Service: the library's default silently falls back to the kernel keyring, which
  // forgets everything at reboot and would take every stored value with it.
  return new AsyncEntry(service, account, { linux: { store: 'secret-service' } });
}

export function hasSessionBus(env: NodeJS.ProcessEnv): boolean {
  if (env.DBUS_SESSION_BUS_ADDRESS) return true;
  return Boolean(env.XDG_RUNTIME_DIR) && existsSync(join(env.XDG_RUNTIME_DIR as string, 'bus'));
}

/** The keychain call did not finish in time. */
export class KeychainTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`the OS keychain did not answer within ${ms / 1000} s`);
    this.name = 'KeychainTimeoutError';
  }
}

/**
 * Run one keychain call with a deadline. The binding honours the signal only for work that has not
 * started yet (a call already blocked on D-Bus or an unlock prompt keeps waiting), so the deadline is also
 * raced here: the caller gets its answer on time even when the platform call does not.
 */
export async function withKeychainDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(new KeychainTimeoutError(ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), deadline]);
  } catch (err) {
    // The binding's own abort rejection says only "AbortError"; ours says how long was waited.
    if (signal.aborted && !(err instanceof KeychainTimeoutError)) throw new KeychainTimeoutError(ms);
    throw err;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
