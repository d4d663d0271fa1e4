import { describe, expect, it } from 'vitest';
import { readSecrets } from '../../src/broker/secrets.js';
import { BackendError } from '../../src/errors.js';
import type { BackendRegistry, SecretRef } from '../../src/secrets/backend.js';

function registry(read: (ref: SecretRef) => Promise<string>, calls: string[]): BackendRegistry {
  return { get: async (name) => ({ name, read: (ref) => (calls.push(ref.raw), read(ref)) }) };
}

describe('readSecrets', () => {
  it('reads each reference once, expands {{tenant}}, and keeps the reference beside each value', async () => {
    const calls: string[] = [];
    const out = await readSecrets({ A: 'env:{{tenant}}_KEY', B: 'env:{{tenant}}_KEY', C: 'local:acme/c' }, 'acme', registry(async (r) => `v(${r.raw})`, calls));
    expect(calls).toEqual(['env:acme_KEY', 'local:acme/c']);
    expect(out).toEqual([
      { name: 'A', ref: 'env:acme_KEY', value: 'v(env:acme_KEY)' },
      { name: 'B', ref: 'env:acme_KEY', value: 'v(env:acme_KEY)' },
      { name: 'C', ref: 'local:acme/c', value: 'v(local:acme/c)' },
    ]);
  });

  it('a backend that never answers fails with backend_timeout (exit 69) naming the reference', async () => {
    const started = Date.now();
    const err = await readSecrets({ A: 'vault:kv/app#token' }, 'acme', registry(() => new Promise<string>(() => {}), []), 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'backend_timeout', exitCode: 69 });
    expect((err as Error).message).toContain('vault:kv/app#token');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
