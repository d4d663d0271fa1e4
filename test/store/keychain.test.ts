/**
 * Store key custody in a real Secret Service. Run under scripts/with-keyring.sh (CI does); elsewhere the
 * suite skips unless CI=true, where a missing keyring is a failure rather than a silent skip (helpers/keyring.ts).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../adapters/local.js';
import { keyIdOf } from '../../adapters/store-key.js';
import type { BackendContext } from '../../src/secrets/backend.js';
import { KEYRING_REQUIRED, keyring, requireKeyring, secretTool, skipWithoutKeyring } from '../helpers/keyring.js';
import { makeCtx, ref, scratch, secretValue } from './helpers.js';

describe.skipIf(skipWithoutKeyring)('store key in the OS keychain', () => {
  let dir: ReturnType<typeof scratch>;
  let ctx: BackendContext;
  let attrs: string[] | undefined;

  beforeEach(() => {
    dir = scratch();
    ctx = makeCtx(join(dir.root, 'state'), { env: process.env, storeKey: 'keychain' });
    attrs = undefined;
  });
  afterEach(() => {
    if (attrs) secretTool(['clear', ...attrs]);
    dir.cleanup();
  });

  /** The keychain item for this store; the test reads it into memory to compare fingerprints, never prints it. */
  function keychainItem(): string | undefined {
    attrs = ['service', 'outloop', 'username', `store-key:${realpathSync(ctx.stateDir)}`];
    const r = secretTool(['lookup', ...attrs]);
    return r.status === 0 && r.stdout.length > 0 ? r.stdout : undefined;
  }

  function storeDoc(): { keySource: string; keyId: string } {
    return JSON.parse(readFileSync(ctx.storeFile, 'utf8'));
  }

  it('has a Secret Service to test against', () => {
    expect(keyring.ok, KEYRING_REQUIRED).toBe(true);
  });

  it('storeKey: keychain keeps the key in the keyring (service/username attributes) and writes no key file', async () => {
    requireKeyring();
    const v = secretValue('kc');
    await createBackend(ctx).write!(ref('local:acme/stripe'), v);

    expect(storeDoc().keySource).toBe('keychain');
    expect(existsSync(ctx.storeKeyFile)).toBe(false);
    const item = keychainItem();
    expect(item, 'no keychain item for service=outloop username=store-key:<stateDir>').toBeDefined();
    expect(keyIdOf(Buffer.from(item!.trim(), 'base64'))).toBe(storeDoc().keyId);
    expect(item).not.toContain(v);

    // A later call reads the recorded source directly, whatever storeKey now says.
    expect(await createBackend({ ...ctx, storeKey: 'file' }).read(ref('local:acme/stripe'))).toBe(v);
    expect(existsSync(ctx.storeKeyFile)).toBe(false);
  });

  it('storeKey: auto prefers the keychain when one answers', async () => {
    requireKeyring();
    await createBackend({ ...ctx, storeKey: 'auto' }).write!(ref('local:acme/a'), 'v');
    expect(storeDoc().keySource).toBe('keychain');
    expect(existsSync(ctx.storeKeyFile)).toBe(false);
    expect(keychainItem()).toBeDefined();
    expect(await createBackend({ ...ctx, storeKey: 'auto' }).read(ref('local:acme/a'))).toBe('v');
  });

  it('reports a keychain item that has gone missing', async () => {
    requireKeyring();
    await createBackend(ctx).write!(ref('local:acme/a'), 'v');
    expect(keychainItem()).toBeDefined();
    secretTool(['clear', ...attrs!]);
    await expect(createBackend(ctx).read(ref('local:acme/a'))).rejects.toMatchObject({ code: 'store_key_missing', exitCode: 69 });
  });
});
