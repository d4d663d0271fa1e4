/**
 * `local:` — outloop's own embedded store, the default that works on a fresh machine with nothing else
 * installed. One JSON file; every entry sealed separately with AES-256-GCM under a key kept by
 * store-key.ts. The entry's name is bound in as additional data, so ciphertext copied under another name
 * fails authentication instead of quietly answering for the wrong secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BackendError, InternalError, UsageError } from '../src/errors.js';
import { writeFileAtomic } from '../src/fs/atomic.js';
import { LockTimeoutError, withFileLock } from '../src/fs/lock.js';
import type { BackendContext, BackendFactory, SecretBackend, SecretRef } from '../src/secrets/backend.js';
import { createStoreKey, keyIdOf, loadStoreKey, type KeySource } from './store-key.js';
import { parseStore, STORE_VERSION, type SealedEntry, type Store } from './local-format.js';

const NAME = 'local';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const createBackend: BackendFactory = (ctx) => new LocalBackend(ctx);

class LocalBackend implements SecretBackend {
  readonly name = NAME;
  private key: { id: string; source: KeySource; bytes: Buffer } | undefined;

  constructor(private readonly ctx: BackendContext) {}

  async read(ref: SecretRef): Promise<string> {
    const path = this.pathOf(ref);
    const store = this.load();
    const entry = store?.entries.get(path);
    if (!store || !entry) throw this.notFound(path);
    const key = await this.keyFor(store);
    return open(key, path, entry, this.ctx.storeFile);
  }

  async write(ref: SecretRef, value: string): Promise<void> {
    const path = this.pathOf(ref);
    if (typeof value !== 'string' || value.length === 0) {
      throw new UsageError(`refusing to store an empty value for local:${path}`, {
        code: 'empty_value',
        next: 'Provide the value on stdin or at the prompt; to delete it use `outloop secrets rm`.',
      });
    }
    await this.locked(async () => {
      let store = this.load();
      let key: Buffer;
      if (store) {
        key = await this.keyFor(store);
      } else {
        const created = await createStoreKey(this.ctx);
        key = created.key;
        store = { keySource: created.source, keyId: keyIdOf(key), entries: new Map() };
        this.key = { id: store.keyId, source: created.source, bytes: key };
      }
      store.entries.set(path, seal(key, path, value));
      this.save(store);
    });
  }

  async remove(ref: SecretRef): Promise<boolean> {
    const path = this.pathOf(ref);
    // Nothing to remove needs no lock, and must not create the state folder just to say so.
    if (!this.load()?.entries.has(path)) return false;
    return this.locked(() => {
      const store = this.load();
      if (!store || !store.entries.delete(path)) return false;
      this.save(store);
      return true;
    });
  }

  async list(): Promise<string[]> {
    const store = this.load();
    if (!store) return [];
    return [...store.entries.keys()].sort().map((p) => `local:${p}`);
  }

  private pathOf(ref: SecretRef): string {
    if (ref.backend !== NAME) throw new InternalError(`local backend asked for a ${ref.backend}: reference`);
    if (ref.path.length === 0) throw new UsageError(`secret reference "${ref.raw}" has an empty path`, { code: 'bad_ref' });
    return ref.path;
  }

  private notFound(path: string): BackendError {
    return new BackendError(NAME, `no value stored for local:${path}`, {
      code: 'secret_not_found',
      next: `Store one with: outloop secrets set local:${path} (reads the value from stdin or a hidden prompt)`,
    });
  }

  private async keyFor(store: Store): Promise<Buffer> {
    if (this.key && this.key.id === store.keyId && this.key.source === store.keySource) return this.key.bytes;
    const bytes = await loadStoreKey(this.ctx, store.keySource);
    if (keyIdOf(bytes) !== store.keyId) {
      const where = store.keySource === 'file' ? `the key file ${this.ctx.storeKeyFile}` : 'the key in the OS keychain';
      throw new BackendError(NAME, `${where} is not the key of the store ${this.ctx.storeFile} (key fingerprint does not match)`, {
        code: 'store_key_mismatch',
        next: 'Restore the key that was created with this store; values sealed under another key cannot be decrypted.',
      });
    }
    this.key = { id: store.keyId, source: store.keySource, bytes };
    return bytes;
  }

  private async locked<T>(fn: () => Promise<T> | T): Promise<T> {
    const lock = `${this.ctx.storeFile}.lock`;
    try {
      return await withFileLock(lock, fn);
    } catch (err) {
      if (!(err instanceof LockTimeoutError)) throw err;
      throw new BackendError(NAME, `timed out waiting for the store lock ${lock}${err.ownerPid ? ` (held by pid ${err.ownerPid})` : ''}`, {
        code: 'store_locked',
        cause: err,
        next: `Retry; if no other outloop is running, remove ${lock}.`,
      });
    }
  }

  /** The store as on disk, or undefined when none has been created yet. */
  private load(): Store | undefined {
    const file = this.ctx.storeFile;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BackendError(NAME, `cannot read the store file ${file}`, { cause: err, next: `Check that ${file} is readable by you.` });
    }
    return parseStore(text, file);
  }

  private save(store: Store): void {
    const doc = {
      version: STORE_VERSION,
      keySource: store.keySource,
      keyId: store.keyId,
      entries: Object.fromEntries(store.entries),
    };
    writeFileAtomic(this.ctx.storeFile, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
  }
}

function seal(key: Buffer, path: string, value: string): SealedEntry {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
    updated: new Date().toISOString(),
  };
}

function open(key: Buffer, path: string, entry: SealedEntry, file: string): string {
  const iv = Buffer.from(entry.iv, 'base64');
  const tag = Buffer.from(entry.tag, 'base64');
  try {
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('bad iv or tag length');
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(path, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new BackendError(NAME, `the store entry local:${path} failed its integrity check (wrong key or tampered file ${file})`, {
      code: 'store_integrity',
      cause: err,
      next: `Restore ${file} and its key from a backup, or store the value again with: outloop secrets set local:${path}`,
    });
  }
}
