import { UsageError } from '../errors.js';
import type { SecretRef } from './backend.js';

export const KNOWN_BACKENDS = ['local', 'env', 'keychain', 'op', 'doppler', 'infisical', 'vault'] as const;

/**
 * What is wrong with a reference as written, or undefined. One rule for config validation and parsing.
 * The message never repeats the text: the commonest mistake is pasting the secret value itself here.
 */
export function refProblem(raw: string): string | undefined {
  const split = splitRef(raw);
  if (!split) return 'not a secret reference (expected BACKEND:PATH such as local:acme/stripe, or op://vault/item/field; never the value itself)';
  if (!(KNOWN_BACKENDS as readonly string[]).includes(split.backend)) return `not a secret reference: unknown backend (known: ${KNOWN_BACKENDS.join(', ')})`;
  if (split.path.length === 0) return `the secret reference has an empty path after "${split.backend}:"`;
  return undefined;
}

function splitRef(raw: string): { backend: string; path: string } | undefined {
  if (raw.startsWith('op://')) return { backend: 'op', path: raw.slice('op://'.length) };
  const colon = raw.indexOf(':');
  return colon > 0 ? { backend: raw.slice(0, colon), path: raw.slice(colon + 1) } : undefined;
}

/**
 * Parse `<backend>:<path>` or 1Password's `op://vault/item[/section]/field`. `{{tenant}}` in the path is
 * replaced with the tenant name, so one grant template can serve many tenants.
 */
export function parseRef(raw: string, tenant?: string): SecretRef {
  const problem = refProblem(raw);
  if (problem) throw new UsageError(problem, { code: 'bad_ref' });
  const { backend, path } = splitRef(raw)!;
  const expand = (s: string) => (tenant === undefined ? s : s.replaceAll('{{tenant}}', tenant));
  return { backend, path: expand(path), raw: expand(raw) };
}
