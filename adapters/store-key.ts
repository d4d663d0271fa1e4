/**
 * Custody of the local store's 32-byte key: the OS keychain when one answers, otherwise a 0600 file beside
 * the store. Where the key lives is decided once, when the store is created, and recorded in the store
 * (`keySource`), so an ordinary read goes straight to it: no probing, and no native module loaded at all
 * for a file key. An agent may call outloop thousands of times; those milliseconds add up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { BackendError } from '../src/errors.js';
import { writeFileAtomic } from '../src/fs/atomic.js';
import type { BackendContext } from '../src/secrets/backend.js';
import { KeychainTimeoutError, keychainTimeoutMs, NoSessionBusError, openKeychainEntry, withKeychainDeadline, type KeychainEntry } from './os-keychain.js';

export type KeySource = 'keychain' | 'file';

export const KEY_BYTES = 32;
export const KEYCHAIN_SERVICE = 'outloop';

/**
 * A keyring call can block on an unlock prompt; a person may need a moment to answer it, but an agent
 * must not hang forever on a prompt nobody sees.
 */
const KEYCHAIN_TIMEOUT_MS = 30_000;

/** One keychain call under the deadline, raced (the binding's own signal does not stop a call already waiting). */
const call = <T>(ctx: BackendContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
  withKeychainDeadline(keychainTimeoutMs(ctx.env, KEYCHAIN_TIMEOUT_MS), fn);

/** First 16 hex digits of sha256(key): names the key without revealing it, so a wrong key is caught up front. */
export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The keychain account is bound to the state folder, so two OUTLOOP_HOMEs never share (or clobber) a key. */
export function keychainAccount(stateDir: string): string {
  return `store-key:${realpathSync(stateDir)}`;
}

/** Read the key of an existing store from where it was recorded. */
export async function loadStoreKey(ctx: BackendContext, source: KeySource): Promise<Buffer> {
  if (source === 'file') {
    const key = readKeyFile(ctx.storeKeyFile);
    if (!key) {
      throw new BackendError('local', `the store key file ${ctx.storeKeyFile} is missing`, {
        code: 'store_key_missing',
        next: `Restore ${ctx.storeKeyFile} from a backup; without the key that created ${ctx.storeFile} its values cannot be decrypted.`,
      });
    }
    return key;
  }
  const account = keychainAccount(ctx.stateDir);
  const entry = await openKeychain(ctx, account, NEXT_READ);
  let text: string | null;
  try {
    text = await call(ctx, (signal) => entry.getPassword(signal));
  } catch (err) {
    throw keychainUnavailable(account, err, NEXT_READ);
  }
  if (text === null) {
    throw new BackendError('local', `the store key is missing from the OS keychain (service "${KEYCHAIN_SERVICE}", account "${account}")`, {
      code: 'store_key_missing',
      next: `Unlock or restore the keychain item that was created with ${ctx.storeFile}; without it the stored values cannot be decrypted.`,
    });
  }
  return decodeKey(text, `the OS keychain item (service "${KEYCHAIN_SERVICE}", account "${account}")`);
}

/**
 * Provide the key for a store about to be created, placed as ctx.storeKey asks. A key already sitting in
 * the chosen place is reused rather than replaced: it may still be the only way to open a store that was
 * moved aside, and overwriting a key is the one mistake here that cannot be undone.
 */
export async function createStoreKey(ctx: BackendContext): Promise<{ key: Buffer; source: KeySource }> {
  mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
  if (ctx.storeKey !== 'file') {
    const account = keychainAccount(ctx.stateDir);
    try {
      return { key: await keychainCreate(ctx, account), source: 'keychain' };
    } catch (err) {
      if (ctx.storeKey === 'keychain') throw err instanceof BackendError ? err : keychainUnavailable(account, err, NEXT_CREATE);
      // auto: no usable keychain here (headless box, container, locked or absent Secret Service).
    }
  }
  const existing = readKeyFile(ctx.storeKeyFile);
  if (existing) return { key: existing, source: 'file' };
  const key = randomBytes(KEY_BYTES);
  writeFileAtomic(ctx.storeKeyFile, `${key.toString('base64')}\n`, 0o600);
  return { key, source: 'file' };
}

async function keychainCreate(ctx: BackendContext, account: string): Promise<Buffer> {
  const entry = await openKeychain(ctx, account, NEXT_CREATE);
  const existing = await call(ctx, (signal) => entry.getPassword(signal));
  if (existing !== null) return decodeKey(existing, `the OS keychain item (service "${KEYCHAIN_SERVICE}", account "${account}")`);
  const key = randomBytes(KEY_BYTES);
  const encoded = key.toString('base64');
  await call(ctx, (signal) => entry.setPassword(encoded, signal));
  // Some keyrings accept a write they do not keep (locked collection, in-memory fallback); a store whose key
  // vanished is unreadable forever, so trust only what reads back.
  const back = await call(ctx, (signal) => entry.getPassword(signal));
  if (back !== encoded) throw new Error('keychain did not keep the store key');
  return key;
}

const NEXT_CREATE = 'Unlock your keyring (gnome-keyring, KWallet, macOS Keychain) and retry, or set storeKey: file in config.yaml to keep the key in a file instead.';
const NEXT_READ = "This store's key lives in the OS keychain: run outloop where that keyring is reachable and unlocked (your desktop session), then retry.";

async function openKeychain(ctx: BackendContext, account: string, next: string): Promise<KeychainEntry> {
  try {
    return await openKeychainEntry(ctx.env, KEYCHAIN_SERVICE, account);
  } catch (err) {
    if (err instanceof NoSessionBusError) throw new BackendError('local', err.message, { next });
    throw keychainUnavailable(account, err, next);
  }
}

function keychainUnavailable(account: string, cause: unknown, next: string): BackendError {
  // The platform's own message stays in `cause` only: messages are ours, so nothing unexpected rides along.
  const late = cause instanceof KeychainTimeoutError ? ` within ${cause.ms / 1000} s` : '';
  return new BackendError('local', `the OS keychain did not answer${late} for the store key (service "${KEYCHAIN_SERVICE}", account "${account}")`, {
    cause,
    next,
    ...(late ? { code: 'backend_timeout' } : {}),
  });
}

/** The key in a file, or undefined if there is no file. Refuses a file that others can read. */
function readKeyFile(file: string): Buffer | undefined {
  let mode: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw new BackendError('local', `the store key ${file} is not a regular file`, {
        next: `Move it aside; the store key must be a regular file readable only by you.`,
      });
    }
    mode = st.mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof BackendError) throw err;
    throw new BackendError('local', `cannot read the store key file ${file}`, { cause: err, next: `Check that ${file} is readable by you.` });
  }
  // Windows has no such mode bits; its ACLs are the user's profile's to keep.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new BackendError('local', `the store key file ${file} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`, {
      code: 'store_key_insecure',
      next: `Run: chmod 600 ${file} (and consider the key exposed: re-create the store's secrets if others could log in here).`,
    });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BackendError('local', `cannot read the store key file ${file}`, { cause: err, next: `Check that ${file} is readable by you.` });
  }
  return decodeKey(text, `the store key file ${file}`);
}

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== trimmed) {
    throw new BackendError('local', `${where} does not hold an outloop store key (expected ${KEY_BYTES} bytes, base64)`, {
      code: 'store_key_invalid',
      next: 'Restore the key that was created with this store; outloop never rewrites a key it did not create.',
    });
  }
  return key;
}
