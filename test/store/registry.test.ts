import { describe, expect, it, vi } from 'vitest';
import { BackendError, Exit } from '../../src/errors.js';
import { createRegistry, LOADERS } from '../../src/secrets/registry.js';
import { KNOWN_BACKENDS } from '../../src/secrets/ref.js';
import { makeCtx } from './helpers.js';

// Counts how often each adapter module is evaluated: the registry must not import one before it is asked for.
const loads = vi.hoisted(() => ({ local: 0, env: 0 }));
vi.mock('../../adapters/local.js', async (importOriginal) => {
  loads.local++;
  return importOriginal();
});
vi.mock('../../adapters/env.js', async (importOriginal) => {
  loads.env++;
  return importOriginal();
});

const ctx = makeCtx('/nonexistent', { env: { A: 'a' } });

describe('backend registry', () => {
  it('imports a backend only when it is first asked for, then reuses the instance', async () => {
    const reg = createRegistry(ctx);
    // Give any eager (fire-and-forget) import time to land before counting.
    await new Promise((r) => setTimeout(r, 50));
    expect(loads).toEqual({ local: 0, env: 0 });

    const [l1, l2] = await Promise.all([reg.get('local'), reg.get('local')]);
    expect(l1.name).toBe('local');
    expect(l2).toBe(l1);
    await new Promise((r) => setTimeout(r, 50));
    expect(loads).toEqual({ local: 1, env: 0 });

    const env = await reg.get('env');
    expect(env.name).toBe('env');
    expect(loads).toEqual({ local: 1, env: 1 });
    expect(await env.read({ backend: 'env', path: 'A', raw: 'env:A' })).toBe('a');
    expect(await reg.get('env')).toBe(env);
    expect(await reg.get('local')).toBe(l1);

    // Another registry (another context) gets its own instance; the module itself is not loaded again.
    const other = await createRegistry(ctx).get('env');
    expect(other).not.toBe(env);
    expect(loads).toEqual({ local: 1, env: 1 });
  });

  it('has a loader for every backend a reference may name', () => {
    // A reference the config schema accepts must never meet "unknown backend" at run time.
    expect(Object.keys(LOADERS).sort()).toEqual([...KNOWN_BACKENDS].sort());
  });

  it.each([
    ['nosuch', /unknown secret backend "nosuch"/],
    ['__proto__', /unknown secret backend/],
    ['toString', /unknown secret backend/],
  ])('refuses %s with backend_not_supported (69)', async (name, message) => {
    const before = { ...loads };
    const err = await createRegistry(ctx).get(name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'backend_not_supported', exitCode: Exit.backendUnavailable, backend: name });
    expect((err as BackendError).message).toMatch(message);
    expect((err as BackendError).message).toContain('available: local, env, op, doppler, infisical, keychain, vault');
    expect(loads).toEqual(before);
  });
});
