/**
 * `env:NAME` — a value from the broker's own environment, for CI runners and containers whose secrets
 * arrive as variables. Read-only: outloop cannot set its own parent's environment, and pretending to
 * would lose the value at exit.
 */
import { BackendError, InternalError } from '../src/errors.js';
import type { BackendFactory, SecretRef } from '../src/secrets/backend.js';

export const createBackend: BackendFactory = (ctx) => ({
  name: 'env',
  async read(ref: SecretRef): Promise<string> {
    if (ref.backend !== 'env') throw new InternalError(`env backend asked for a ${ref.backend}: reference`);
    const name = ref.path;
    // Own properties only: a name like "constructor" must not find something on Object.prototype.
    const value = Object.prototype.hasOwnProperty.call(ctx.env, name) ? ctx.env[name] : undefined;
    if (value === undefined || value === '') {
      throw new BackendError('env', `environment variable ${name} is ${value === undefined ? 'not set' : 'empty'} (needed for ${ref.raw})`, {
        code: 'secret_not_found',
        next: `Set ${name} in the environment outloop runs in, or store the value with: outloop secrets set local:<name>`,
      });
    }
    return value;
  },
});
