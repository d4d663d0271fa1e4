import { describe, expect, it } from 'vitest';
import { createBackend } from '../../adapters/env.js';
import { BackendError, Exit } from '../../src/errors.js';
import { makeCtx, ref } from './helpers.js';

const backend = (env: NodeJS.ProcessEnv) => createBackend(makeCtx('/nonexistent', { env }));

async function rejection(p: Promise<unknown>): Promise<BackendError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendError);
  return err as BackendError;
}

describe('env backend', () => {
  it('reads a variable from the broker environment it was given', async () => {
    const env = backend({ STRIPE_KEY: 'sk_test_123', OTHER: 'o' });
    expect(env.name).toBe('env');
    expect(await env.read(ref('env:STRIPE_KEY'))).toBe('sk_test_123');
  });

  it('names a missing variable, exits 69, and shows no value', async () => {
    const err = await rejection(backend({ STRIPE_KEY_OLD: 'sk_live_leak' }).read(ref('env:STRIPE_KEY')));
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.backend).toBe('env');
    expect(err.message).toContain('STRIPE_KEY');
    expect(err.message).toContain('not set');
    expect(`${err.message} ${err.next}`).not.toContain('sk_live_leak');
  });

  it('treats an empty variable as missing', async () => {
    const err = await rejection(backend({ TOKEN: '' }).read(ref('env:TOKEN')));
    expect(err.exitCode).toBe(Exit.backendUnavailable);
    expect(err.message).toContain('TOKEN is empty');
  });

  it('does not find inherited object properties', async () => {
    await rejection(backend({}).read(ref('env:constructor')));
    await rejection(backend({}).read(ref('env:__proto__')));
  });

  it('is read-only', () => {
    const env = backend({});
    expect(env.write).toBeUndefined();
    expect(env.remove).toBeUndefined();
  });
});
