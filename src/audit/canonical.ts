import { createHash } from 'node:crypto';

/** `prev` of the first record in a chain. */
export const ZERO_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted recursively (by UTF-16 code units, Array.prototype.sort's default) and no
 * whitespace, so the same value always hashes the same however its keys were ordered when written.
 * Everything else follows JSON.stringify: undefined members are dropped, non-finite numbers become null,
 * toJSON is honoured, BigInt throws.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set()) ?? 'null';
}

function encode(value: unknown, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (ancestors.has(value)) throw new TypeError('canonicalJson: value is circular');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item) => encode(item, ancestors) ?? 'null').join(',')}]`;
    }
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const encoded = encode((value as Record<string, unknown>)[key], ancestors);
      if (encoded !== undefined) parts.push(`${JSON.stringify(key)}:${encoded}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** The chain hash of a record: SHA-256 over its canonical JSON with `hash` itself left out. */
export function hashRecord(record: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = record;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
