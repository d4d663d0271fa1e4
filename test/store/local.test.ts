import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBackend } from '../../adapters/local.js';
import { BackendError, Exit, OutloopError, UsageError } from '../../src/errors.js';
import type { BackendContext, SecretBackend } from '../../src/secrets/backend.js';
import { encodingsOf, makeCtx, ref, scratch, secretValue } from './helpers.js';

// Counts loads of the native keychain binding: a file-key store must never pay for it.
const native = vi.hoisted(() => ({ loads: 0 }));
vi.mock('@napi-rs/keyring', async (importOriginal) => {
  native.loads++;
  return importOriginal();
});

let dir: ReturnType<typeof scratch>;
let stateDir: string;
let ctx: BackendContext;
let local: SecretBackend;

beforeEach(() => {
  dir = scratch();
  stateDir = join(dir.root, 'state');
  ctx = makeCtx(stateDir);
  local = createBackend(ctx);
});
afterEach(() => dir.cleanup());

function storeDoc(): { keySource: string; keyId: string; entries: Record<string, { iv: string; tag: string; data: string; updated: string }> } {
  return JSON.parse(readFileSync(ctx.storeFile, 'utf8'));
}

function rewriteStore(edit: (doc: ReturnType<typeof storeDoc>) => void): void {
  const doc = storeDoc();
  edit(doc);
  writeFileSync(ctx.storeFile, JSON.stringify(doc));
}

async function caught(p: Promise<unknown>): Promise<OutloopError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OutloopError);
    return err as OutloopError;
  }
  throw new Error('expected a rejection');
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('local store with a file key', () => {
  it('round-trips set, get, list and rm', async () => {
    const stripe = secretValue('stripe');
    const gh = secretValue('gh');
    await local.write!(ref('local:acme/stripe'), stripe);
    await local.write!(ref('local:acme/github'), gh);
    await local.write!(ref('local:Zeta'), 'z');
    expect(await local.read(ref('local:acme/stripe'))).toBe(stripe);
    expect(await local.read(ref('local:acme/github'))).toBe(gh);
    expect(await local.list!()).toEqual(['local:Zeta', 'local:acme/github', 'local:acme/stripe']);

    const replaced = secretValue('stripe2');
    await local.write!(ref('local:acme/stripe'), replaced);
    expect(await local.read(ref('local:acme/stripe'))).toBe(replaced);

    expect(await local.remove!(ref('local:acme/stripe'))).toBe(true);
    expect(await local.remove!(ref('local:acme/stripe'))).toBe(false);
    expect(await local.list!()).toEqual(['local:Zeta', 'local:acme/github']);
    await expect(local.read(ref('local:acme/stripe'))).rejects.toThrow('no value stored for local:acme/stripe');

    // A new instance (a later CLI call) opens the same store from disk.
    expect(await createBackend(ctx).read(ref('local:acme/github'))).toBe(gh);
    expect(storeDoc().keySource).toBe('file');
    expect(native.loads).toBe(0);
  });

  it('keeps no value in clear in any file, and writes the store and key 0600 in a 0700 folder', async () => {
    const values = [secretValue('a'), secretValue('b'), `pässwörd ${secretValue('utf8')} ✓`];
    for (const [i, v] of values.entries()) await local.write!(ref(`local:acme/k${i}`), v);
    await local.remove!(ref('local:acme/k0'));

    const files = readdirSync(stateDir);
    expect(files.sort()).toEqual(['store.json', 'store.key']);
    for (const f of files) {
      const bytes = readFileSync(join(stateDir, f));
      for (const v of values) for (const enc of encodingsOf(v)) expect(bytes.includes(enc), `${f} holds a value`).toBe(false);
    }
    expect(mode(ctx.storeFile)).toBe(0o600);
    expect(mode(ctx.storeKeyFile)).toBe(0o600);
    expect(mode(stateDir)).toBe(0o700);

    const doc = storeDoc();
    expect(Object.keys(doc.entries).sort()).toEqual(['acme/k1', 'acme/k2']);
    expect(doc.keyId).toMatch(/^[0-9a-f]{16}$/);
    // Fresh IV per entry.
    expect(doc.entries['acme/k1']!.iv).not.toBe(doc.entries['acme/k2']!.iv);
  });

  it('treats entry names as data, including __proto__', async () => {
    await local.write!(ref('local:__proto__'), 'p');
    await local.write!(ref('local:constructor'), 'c');
    expect(await createBackend(ctx).read(ref('local:__proto__'))).toBe('p');
    expect(await local.list!()).toEqual(['local:__proto__', 'local:constructor']);
    await expect(local.read(ref('local:toString'))).rejects.toThrow('no value stored for local:toString');
  });

  it('says what to do when there is no store or no such entry', async () => {
    for (const _ of [0, 1]) {
      const err = await caught(local.read(ref('local:acme/stripe')));
      expect(err).toBeInstanceOf(BackendError);
      expect((err as BackendError).backend).toBe('local');
      expect(err.exitCode).toBe(Exit.backendUnavailable);
      expect(err.message).toBe('no value stored for local:acme/stripe');
      expect(err.next).toBe('Store one with: outloop secrets set local:acme/stripe (reads the value from stdin or a hidden prompt)');
      await local.write!(ref('local:acme/other'), 'v'); // second pass: the store exists, the entry does not
    }
    expect(await local.list!()).toEqual(['local:acme/other']);
  });

  it('reads nothing and creates nothing before the first write', async () => {
    expect(await local.list!()).toEqual([]);
    expect(await local.remove!(ref('local:acme/x'))).toBe(false);
    await caught(local.read(ref('local:acme/x')));
    expect(() => readdirSync(stateDir)).toThrow(/ENOENT/);
  });

  it('refuses an empty value', async () => {
    const err = await caught(local.write!(ref('local:acme/empty'), ''));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(Exit.usage);
    expect(() => statSync(ctx.storeFile)).toThrow(/ENOENT/);
  });
});

describe('local store integrity', () => {
  it('refuses an entry whose ciphertext was copied under another name', async () => {
    const a = secretValue('a');
    await local.write!(ref('local:acme/a'), a);
    await local.write!(ref('local:acme/b'), secretValue('b'));
    rewriteStore((doc) => {
      doc.entries['acme/b'] = { ...doc.entries['acme/a']! };
    });
    const err = await caught(createBackend(ctx).read(ref('local:acme/b')));
    expect(err.code).toBe('store_integrity');
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.message).toContain('local:acme/b failed its integrity check');
    expect(err.message).not.toContain(a);
    // The original name still opens: the store is not damaged as a whole.
    expect(await createBackend(ctx).read(ref('local:acme/a'))).toBe(a);
  });

  it.each(['data', 'tag', 'iv'] as const)('refuses an entry with a tampered %s', async (field) => {
    const v = secretValue('t');
    await local.write!(ref('local:acme/t'), v);
    rewriteStore((doc) => {
      const e = doc.entries['acme/t']!;
      const bytes = Buffer.from(e[field], 'base64');
      bytes[0]! ^= 0x01;
      e[field] = bytes.toString('base64');
    });
    const err = await caught(createBackend(ctx).read(ref('local:acme/t')));
    expect(err.code).toBe('store_integrity');
    expect(err.message).toMatch(/integrity check \(wrong key or tampered file/);
    expect(err.message).not.toContain(v);
  });

  it('names the key file when it is not the key of this store', async () => {
    await local.write!(ref('local:acme/a'), secretValue());
    writeFileSync(ctx.storeKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const err = await caught(createBackend(ctx).read(ref('local:acme/a')));
    expect(err.code).toBe('store_key_mismatch');
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.message).toContain(ctx.storeKeyFile);
    expect(err.message).toContain('is not the key of the store');
  });

  it('refuses to write under a key that does not match either', async () => {
    await local.write!(ref('local:acme/a'), secretValue());
    const before = readFileSync(ctx.storeFile);
    writeFileSync(ctx.storeKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await expect(createBackend(ctx).write!(ref('local:acme/b'), 'v')).rejects.toMatchObject({ code: 'store_key_mismatch' });
    expect(readFileSync(ctx.storeFile).equals(before)).toBe(true);
  });

  it('reports a missing key file, and one that holds no key', async () => {
    await local.write!(ref('local:acme/a'), secretValue());
    writeFileSync(ctx.storeKeyFile, 'not a key\n', { mode: 0o600 });
    await expect(createBackend(ctx).read(ref('local:acme/a'))).rejects.toMatchObject({ code: 'store_key_invalid' });
    writeFileSync(ctx.storeKeyFile, `${randomBytes(16).toString('base64')}\n`, { mode: 0o600 });
    await expect(createBackend(ctx).read(ref('local:acme/a'))).rejects.toMatchObject({ code: 'store_key_invalid' });
    rmSync(ctx.storeKeyFile);
    const err = await caught(createBackend(ctx).read(ref('local:acme/a')));
    expect(err.code).toBe('store_key_missing');
    expect(err.message).toContain(ctx.storeKeyFile);
  });

  it('reports a damaged store file without quoting it', async () => {
    await local.write!(ref('local:acme/a'), secretValue());
    writeFileSync(ctx.storeFile, '{"version":1,"keySource":"file", "entries": {"acme/a": SECRETISH');
    const err = await caught(createBackend(ctx).read(ref('local:acme/a')));
    expect(err.code).toBe('store_corrupt');
    expect(err.message).not.toContain('SECRETISH');
    // And a later write does not paper over it.
    await expect(createBackend(ctx).write!(ref('local:acme/b'), 'v')).rejects.toMatchObject({ code: 'store_corrupt' });
  });
});

describe('store key file permissions', () => {
  it.skipIf(process.platform === 'win32')('refuses a key file others can read, naming the file and the fix', async () => {
    const v = secretValue();
    await local.write!(ref('local:acme/a'), v);
    chmodSync(ctx.storeKeyFile, 0o644);
    const err = await caught(createBackend(ctx).read(ref('local:acme/a')));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.code).toBe('store_key_insecure');
    expect(err.message).toContain(ctx.storeKeyFile);
    expect(err.next).toContain(`chmod 600 ${ctx.storeKeyFile}`);
    // Writing is refused too, and the key stays untouched for the user to fix.
    await expect(createBackend(ctx).write!(ref('local:acme/b'), 'v')).rejects.toMatchObject({ code: 'store_key_insecure' });
    chmodSync(ctx.storeKeyFile, 0o600);
    expect(await createBackend(ctx).read(ref('local:acme/a'))).toBe(v);
  });

  it.skipIf(process.platform === 'win32')('refuses a pre-existing group-readable key file when creating a store', async () => {
    mkdirSync(stateDir, { mode: 0o700 });
    writeFileSync(ctx.storeKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o640 });
    chmodSync(ctx.storeKeyFile, 0o640);
    await expect(local.write!(ref('local:acme/a'), 'v')).rejects.toMatchObject({ code: 'store_key_insecure' });
    expect(() => statSync(ctx.storeFile)).toThrow(/ENOENT/);
  });
});

describe.skipIf(process.platform !== 'linux')('key placement without a session bus', () => {
  it('auto falls back to a key file without loading the keychain binding', async () => {
    const auto = createBackend(makeCtx(stateDir, { storeKey: 'auto', env: {} }));
    await auto.write!(ref('local:acme/a'), 'v');
    expect(storeDoc().keySource).toBe('file');
    expect(mode(ctx.storeKeyFile)).toBe(0o600);
    expect(await createBackend(makeCtx(stateDir, { storeKey: 'auto', env: {} })).read(ref('local:acme/a'))).toBe('v');
    expect(native.loads).toBe(0);
  });

  it('keychain (required) fails with exit 69 and leaves nothing behind', async () => {
    const kc = createBackend(makeCtx(stateDir, { storeKey: 'keychain', env: {} }));
    const err = await caught(kc.write!(ref('local:acme/a'), 'v'));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.message).toMatch(/keychain/);
    expect(err.next).toMatch(/storeKey: file/);
    expect(readdirSync(stateDir)).toEqual([]);
  });
});
