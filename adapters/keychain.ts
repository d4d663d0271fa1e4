/**
 * `keychain:SERVICE/ACCOUNT` — one item in the OS keychain, through @napi-rs/keyring (keyring-rs:
 * keyring-core 1.0 with its platform stores). The reference splits on the FIRST `/`, so an account may
 * hold slashes (`keychain:github/me@example.com/cli`) but a service cannot.
 *
 * Items are the platform's ordinary ones, so other tools read what outloop writes and outloop reads what
 * they wrote. How SERVICE and ACCOUNT map, per the keyring store crates' docs (docs.rs):
 *
 * - Linux, Secret Service (dbus-secret-service-keyring-store): an item in the default collection with
 *   attributes `service` = SERVICE and `username` = ACCOUNT, label `keyring:ACCOUNT@SERVICE`; lookups
 *   match on those two attributes only, so items other tools made are found.
 *     secret-tool store --label=NAME service SERVICE username ACCOUNT   (value on stdin)
 *     secret-tool lookup service SERVICE username ACCOUNT
 *   Never the kernel keyutils store (os-keychain.ts pins it): it forgets everything at reboot.
 * - macOS, login keychain (apple-native-keyring-store): a generic password with `service`
 *   (kSecAttrService) = SERVICE and `account` (kSecAttrAccount) = ACCOUNT.
 *     security add-generic-password -s SERVICE -a ACCOUNT -w          (prompts for the value)
 *     security find-generic-password -s SERVICE -a ACCOUNT -w
 * - Windows, Credential Manager (windows-native-keyring-store): a generic credential whose target name
 *   is `ACCOUNT.SERVICE`. The `.` is not escaped, so `keychain:b.c/a` and `keychain:c/a.b` name the same
 *   credential there.
 *
 * A keychain holds the item for anyone who can ask as this user; outloop adds no encryption of its own.
 */
import { BackendError, InternalError, UsageError } from '../src/errors.js';
import type { BackendFactory, SecretBackend, SecretRef } from '../src/secrets/backend.js';
import { KeychainTimeoutError, keychainTimeoutMs, NoSessionBusError, openKeychainEntry, withKeychainDeadline, type KeychainEntry } from './os-keychain.js';

const NAME = 'keychain';

/**
 * Under the broker's own 30 s cap on a read, so this (which names the keychain and what to do) is what
 * the person sees; long enough for a person to answer an unlock prompt they are expecting.
 */
export const KEYCHAIN_CALL_TIMEOUT_MS = 10_000;

export interface KeychainItem {
  service: string;
  account: string;
}

/** SERVICE/ACCOUNT of a keychain: reference, split on the first `/`. Throws UsageError when either is empty. */
export function parseKeychainPath(ref: SecretRef): KeychainItem {
  const slash = ref.path.indexOf('/');
  const service = slash < 0 ? ref.path : ref.path.slice(0, slash);
  const account = slash < 0 ? '' : ref.path.slice(slash + 1);
  if (service.length === 0 || account.length === 0) {
    throw new UsageError(`secret reference "${ref.raw}" must name a keychain item as keychain:SERVICE/ACCOUNT`, {
      code: 'bad_ref',
      next: 'Write it as keychain:SERVICE/ACCOUNT, for example keychain:stripe/acme (the account may contain "/", the service may not).',
    });
  }
  return { service, account };
}

export const createBackend: BackendFactory = (ctx) => new KeychainBackend(ctx.env);

class KeychainBackend implements SecretBackend {
  readonly name = NAME;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async read(ref: SecretRef): Promise<string> {
    const item = this.itemOf(ref);
    const entry = await this.open(ref, item);
    const value = await this.call(ref, item, 'read', (signal) => entry.getPassword(signal));
    if (value === null) {
      throw new BackendError(NAME, `no item in the OS keychain for service "${item.service}" account "${item.account}" (needed for ${ref.raw})`, {
        code: 'secret_not_found',
        next: `Store it with: outloop secrets set ${keychainRef(item)} (or ${platformStoreCommand(item)})`,
      });
    }
    if (value.length === 0) {
      // An empty value would reach the child as a credential that is silently wrong.
      throw new BackendError(NAME, `the OS keychain item for service "${item.service}" account "${item.account}" is empty (needed for ${ref.raw})`, {
        code: 'secret_empty',
        next: `Store the value again with: outloop secrets set ${keychainRef(item)}`,
      });
    }
    return value;
  }

  async write(ref: SecretRef, value: string): Promise<void> {
    const item = this.itemOf(ref);
    if (typeof value !== 'string' || value.length === 0) {
      throw new UsageError(`refusing to store an empty value for ${keychainRef(item)}`, {
        code: 'empty_value',
        next: 'Provide the value on stdin or at the prompt; to delete the item use `outloop secrets rm`.',
      });
    }
    const entry = await this.open(ref, item);
    await this.call(ref, item, 'write', (signal) => entry.setPassword(value, signal));
  }

  async remove(ref: SecretRef): Promise<boolean> {
    const item = this.itemOf(ref);
    const entry = await this.open(ref, item);
    return this.call(ref, item, 'remove', (signal) => entry.deleteCredential(signal));
  }

  private itemOf(ref: SecretRef): KeychainItem {
    if (ref.backend !== NAME) throw new InternalError(`keychain backend asked for a ${ref.backend}: reference`);
    return parseKeychainPath(ref);
  }

  private async open(ref: SecretRef, item: KeychainItem): Promise<KeychainEntry> {
    try {
      return await openKeychainEntry(this.env, item.service, item.account);
    } catch (err) {
      // The session bus took the connection but never answered its greeting (os-keychain.ts busAnswers).
      if (err instanceof KeychainTimeoutError) throw failure(ref, item, 'read', err);
      if (err instanceof NoSessionBusError) {
        throw new BackendError(NAME, `${err.message} (needed for ${ref.raw})`, {
          code: 'keychain_unavailable',
          next: 'Run outloop in a session with an unlocked keyring (gnome-keyring, KWallet), or keep this secret in another backend such as local:.',
        });
      }
      throw new BackendError(NAME, `the OS keychain cannot be opened (needed for ${ref.raw})`, {
        code: 'keychain_unavailable',
        cause: err,
        next: 'Check that a keyring is running and unlocked (Secret Service on Linux), then retry; or keep this secret in another backend such as local:.',
      });
    }
  }

  private async call<T>(ref: SecretRef, item: KeychainItem, op: 'read' | 'write' | 'remove', fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withKeychainDeadline(keychainTimeoutMs(this.env, KEYCHAIN_CALL_TIMEOUT_MS), fn);
    } catch (err) {
      throw failure(ref, item, op, err);
    }
  }
}

/** A platform failure as our own message; the platform's text stays in `cause` (it never holds the value). */
function failure(ref: SecretRef, item: KeychainItem, op: 'read' | 'write' | 'remove', err: unknown): BackendError {
  const what = `service "${item.service}" account "${item.account}"`;
  const verb = op === 'read' ? 'read' : op === 'write' ? 'store' : 'remove';
  if (err instanceof KeychainTimeoutError) {
    return new BackendError(NAME, `the OS keychain did not answer within ${err.ms / 1000} s for ${ref.raw}`, {
      code: 'backend_timeout',
      cause: err,
      next: 'Unlock your keyring (answer its prompt if one is waiting), then retry.',
    });
  }
  const text = err instanceof Error ? err.message : '';
  // keyring-core's errors all reach JS as GenericFailure; only the text tells them apart.
  if (/matched by \d+ credentials/i.test(text)) {
    return new BackendError(NAME, `more than one OS keychain item matches ${what} (${ref.raw}), so outloop cannot tell which to ${verb}`, {
      code: 'keychain_ambiguous',
      cause: err,
      next: `Keep one item with these attributes and delete the others (${platformInspectCommand(item)}).`,
    });
  }
  if (/not valid UTF-8/i.test(text)) {
    return new BackendError(NAME, `the OS keychain item for ${what} (${ref.raw}) does not hold text`, {
      code: 'keychain_bad_item',
      cause: err,
      next: `Store the value again as text with: outloop secrets set ${keychainRef(item)}`,
    });
  }
  return new BackendError(NAME, `the OS keychain could not ${verb} the item for ${what} (${ref.raw})`, {
    code: 'keychain_unavailable',
    cause: err,
    next: 'Unlock your keyring (gnome-keyring, KWallet, macOS Keychain) and retry.',
  });
}

function keychainRef(item: KeychainItem): string {
  return shellWord(`keychain:${item.service}/${item.account}`);
}

function platformStoreCommand(item: KeychainItem): string {
  const s = shellWord(item.service);
  const a = shellWord(item.account);
  if (process.platform === 'darwin') return `security add-generic-password -s ${s} -a ${a} -w`;
  if (process.platform === 'win32') return `add a generic credential named ${item.account}.${item.service} in Credential Manager`;
  return `secret-tool store --label=${shellWord(`${item.service} ${item.account}`)} service ${s} username ${a}`;
}

function platformInspectCommand(item: KeychainItem): string {
  const s = shellWord(item.service);
  const a = shellWord(item.account);
  if (process.platform === 'darwin') return `Keychain Access, or: security delete-generic-password -s ${s} -a ${a}`;
  if (process.platform === 'win32') return 'Credential Manager';
  return `see them with: secret-tool search --all service ${s} username ${a}`;
}

/** A word a person can paste into a POSIX shell. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
