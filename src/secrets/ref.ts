import { UsageError } from '../errors.js';
import type { SecretRef } from './backend.js';

export const KNOWN_BACKENDS = ['local', 'env', 'keychain', 'op', 'doppler', 'infisical', 'vault'] as const;

/**
 * Parse `<backend>:<path>` or 1Password's `op://vault/item[/section]/field`. `{{tenant}}` in the path is
 * replaced with the tenant name, so one grant template can serve many tenants.
 */
export function parseRef(raw: string, tenant?: string): SecretRef {
  let backend: string;
  let path: string;
  if (raw.startsWith('op://')) {
    backend = 'op';
    path = raw.slice('op://'.length);
  } else {
    const colon = raw.indexOf(':');
    if (colon <= 0) throw new UsageError(`"${raw}" is not a secret reference (expected BACKEND:PATH, e.g. local:acme/stripe)`, { code: 'bad_ref' });
    backend = raw.slice(0, colon);
    path = raw.slice(colon + 1);
  }
  if (!(KNOWN_BACKENDS as readonly string[]).includes(backend)) {
    throw new UsageError(`unknown secret backend "${backend}" in "${raw}" (known: ${KNOWN_BACKENDS.join(', ')})`, { code: 'bad_ref' });
  }
  if (tenant !== undefined) path = path.replaceAll('{{tenant}}', tenant);
  if (path.length === 0) throw new UsageError(`secret reference "${raw}" has an empty path`, { code: 'bad_ref' });
  return { backend, path, raw: tenant !== undefined ? raw.replaceAll('{{tenant}}', tenant) : raw };
}
