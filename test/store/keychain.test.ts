/**
 * Store key custody in a real Secret Service. Run under scripts/with-keyring.sh (CI does); elsewhere the
 * suite skips unless CI=true, where a missing keyring is a failure rather than a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../adapters/local.js';
import { keyIdOf } from '../../adapters/store-key.js';
import type { BackendContext } from '../../src/secrets/backend.js';
import { makeCtx, ref, scratch, secretValue } from './helpers.js';

const CI = process.env.CI === 'true';

function secretTool(args: string[], input?: string) {
  return spawnSync('secret-tool', args, { input, encoding: 'utf8', timeout: 15_000 });
}

/** Can this process reach a Secret Service that keeps what it is given? */
function probeKeyring(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return { ok: false, why: 'DBUS_SESSION_BUS_ADDRESS is not set' };
  const attrs = ['service', 'outloop-test-probe', 'username', String(process.pid)];
  const stored = secretTool(['store', '--label=outloop test probe', ...attrs], 'probe');
  if (stored.error || stored.status !== 0) return { ok: false, why: `secret-tool store failed: ${stored.error?.message ?? stored.stderr.trim()}` };
  const found = secretTool(['lookup', ...attrs]);
  secretTool(['clear', ...attrs]);
  if (found.status !== 0 || found.stdout !== 'probe') return { ok: false, why: 'secret-tool lookup did not return the probe item' };
  return { ok: true };
}

const keyring = probeKeyring();

function requireKeyring(): void {
  if (!keyring.ok) {
    throw new Error(`gnome-keyring (a Secret Service) is required in CI: run the tests under scripts/with-keyring.sh (${keyring.why})`);
  }
}

describe.skipIf(!keyring.ok && !CI)('store key in the OS keychain', () => {
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
    expect(keyring.ok, keyring.ok ? '' : `gnome-keyring (a Secret Service) is required in CI: run the tests under scripts/with-keyring.sh (${keyring.why})`).toBe(true);
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
