/**
 * The one way outloop opens an OS keychain item (macOS Keychain, Windows Credential Manager, Secret
 * Service on Linux), shared by the local store's key custody (store-key.ts) and the keychain: backend.
 * Callers turn the failures into their own BackendError, since only they know which reference (or
 * store) the person is waiting on and what to do about it.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
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
  // The binding connects to the bus synchronously, on the main thread: a bus that accepts and never
  // answers would freeze outloop there, where no timer can fire (it hung 90 s, past every limit). So
  // the bus must first answer a D-Bus greeting within the limit, asked without blocking.
  if (process.platform === 'linux') await busAnswers(env, keychainTimeoutMs(env));
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

/**
 * The limit of one keychain call (and of the bus greeting before it). OUTLOOP_KEYCHAIN_TIMEOUT_MS sets it
 * (tests use a short one), within 100 ms .. 120 s; otherwise `fallback`.
 */
export function keychainTimeoutMs(env: NodeJS.ProcessEnv, fallback = 10_000): number {
  const n = Number(env.OUTLOOP_KEYCHAIN_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? Math.min(120_000, Math.max(100, n)) : fallback;
}

/** The session bus's socket, from DBUS_SESSION_BUS_ADDRESS (first unix: entry) or $XDG_RUNTIME_DIR/bus. */
function busSocket(env: NodeJS.ProcessEnv): string | undefined {
  const addr = env.DBUS_SESSION_BUS_ADDRESS;
  if (!addr) return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'bus') : undefined;
  for (const entry of addr.split(';')) {
    if (!entry.startsWith('unix:')) continue;
    const kv = Object.fromEntries(entry.slice(5).split(',').map((p) => [p.slice(0, p.indexOf('=')), unescapeDbus(p.slice(p.indexOf('=') + 1))]));
    if (kv.path) return kv.path;
    // Linux abstract sockets: Node names them with a leading NUL.
    if (kv.abstract) return `\0${kv.abstract}`;
  }
  return undefined; // tcp:, launchd:, ... : nothing to greet here, the binding handles them
}

function unescapeDbus(v: string): string {
  return v.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * Resolve once the bus answers the start of a D-Bus authentication (a NUL byte and a bare AUTH, which
 * every bus answers with REJECTED and its mechanisms); reject with KeychainTimeoutError when it does not
 * within `ms`. A socket that refuses the connection is left to the binding, which reports it.
 */
export function busAnswers(env: NodeJS.ProcessEnv, ms: number): Promise<void> {
  const path = busSocket(env);
  if (!path) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new KeychainTimeoutError(ms)), ms);
    sock.once('connect', () => sock.write('\0AUTH\r\n'));
    sock.once('data', () => done());
    sock.once('error', () => done());
  });
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
