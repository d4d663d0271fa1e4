import { sha256Hex } from '../digest.js';

/** `prev` of the first record in a chain. */
export const ZERO_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted recursively (by UTF-16 code units, Array.prototype.sort's default) and no
 * whitespace, so the same value always hashes the same however its keys were ordered when written.
 * Everything else follows JSON.stringify: undefined members are dropped, non-finite numbers become null,
 * toJSON is honoured, BigInt throws.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, 0, undefined) ?? 'null';
}

/**
 * Below this depth no cycle is looked for: a value that deep is either circular or absurd, and only
 * then is the ancestor set built. Keeping the set off the common path (and building strings by
 * concatenation, not arrays joined) is most of what makes `audit verify` fast on unkeyed records.
 */
const CYCLE_CHECK_DEPTH = 64;

function encode(value: unknown, depth: number, ancestors: Set<object> | undefined): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return JSON.stringify(value); // undefined, functions and symbols (undefined); BigInt throws
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return encode((value as { toJSON: () => unknown }).toJSON(), depth, ancestors);
  }
  const obj = value as object;
  if (depth >= CYCLE_CHECK_DEPTH) {
    ancestors ??= new Set();
    if (ancestors.has(obj)) throw new TypeError('canonicalJson: value is circular');
    ancestors.add(obj);
  }
  try {
    if (Array.isArray(obj)) {
      let out = '[';
      for (let i = 0; i < obj.length; i++) out += (i ? ',' : '') + (encode(obj[i], depth + 1, ancestors) ?? 'null');
      return `${out}]`;
    }
    const keys = Object.keys(obj).sort();
    let out = '{';
    let first = true;
    for (const key of keys) {
      const encoded = encode((obj as Record<string, unknown>)[key], depth + 1, ancestors);
      if (encoded === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(key)}:${encoded}`;
      first = false;
    }
    return `${out}}`;
  } finally {
    ancestors?.delete(obj);
  }
}

/** The chain hash of a record: SHA-256 over its canonical JSON with `hash` itself left out. */
export function hashRecord(record: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
