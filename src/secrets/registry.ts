/**
 * Backends by name, each module imported only when a request first needs it: a call that reads one
 * local: value must not pay to load the others (or a native keychain binding). One literal import per
 * backend so the bundler can split each into its own chunk.
 */
import { BackendError } from '../errors.js';
import type { BackendContext, BackendFactory, BackendRegistry, SecretBackend } from './backend.js';

type Loader = () => Promise<{ createBackend: BackendFactory }>;

export const LOADERS: Readonly<Record<string, Loader>> = {
  local: () => import('../../adapters/local.js'),
  env: () => import('../../adapters/env.js'),
  op: () => import('../../adapters/op.js'),
  doppler: () => import('../../adapters/doppler.js'),
  infisical: () => import('../../adapters/infisical.js'),
  keychain: () => import('../../adapters/keychain.js'),
  vault: () => import('../../adapters/vault.js'),
};


export function createRegistry(ctx: BackendContext): BackendRegistry {
  // Promises, not instances, so two concurrent first gets share one import and one instance.
  const cache = new Map<string, Promise<SecretBackend>>();
  return {
    get(name: string): Promise<SecretBackend> {
      const hit = cache.get(name);
      if (hit) return hit;
      const load = Object.prototype.hasOwnProperty.call(LOADERS, name) ? LOADERS[name] : undefined;
      if (!load) return Promise.reject(unsupported(name));
      const made = load().then((mod) => mod.createBackend(ctx));
      cache.set(name, made);
      // A failed load is not remembered, so a later get can try again.
      made.catch(() => {
        if (cache.get(name) === made) cache.delete(name);
      });
      return made;
    },
  };
}

function unsupported(name: string): BackendError {
  const available = Object.keys(LOADERS).join(', ');
  const message = `unknown secret backend "${name}" (available: ${available})`;
  return new BackendError(name, message, {
    code: 'backend_not_supported',
    next: `Reference the secret through one of: ${available} (for example local:acme/stripe or env:STRIPE_KEY).`,
  });
}
