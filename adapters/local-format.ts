import { BackendError } from '../src/errors.js';
import type { KeySource } from './store-key.js';

/**
 * The local store's file format, read in one place: by the local backend, and by `outloop doctor`, which
 * must tell whether the store answers without holding its key or decrypting anything. Parsing needs no
 * key: entry names and the key's location are not secret, the values stay sealed.
 */
export const STORE_VERSION = 1;

export interface SealedEntry {
  iv: string;
  tag: string;
  data: string;
  updated: string;
}

export interface Store {
  keySource: KeySource;
  keyId: string;
  // A Map, not an object: entry names are user text, and "__proto__" must be just another name.
  entries: Map<string, SealedEntry>;
}

const NAME = 'local';

export function parseStore(text: string, file: string): Store {
  const corrupt = (why: string) =>
    new BackendError(NAME, `the store file ${file} is damaged (${why})`, {
      code: 'store_corrupt',
      next: `Restore ${file} from a backup; outloop will not overwrite a store it cannot read.`,
    });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the fault; keep it out.
    throw corrupt('not valid JSON');
  }
  if (!isRecord(doc)) throw corrupt('not a JSON object');
  if (doc.version !== STORE_VERSION) {
    throw new BackendError(NAME, `the store file ${file} has version ${JSON.stringify(doc.version)}, this outloop reads version ${STORE_VERSION}`, {
      code: 'store_version',
      next: 'Use the outloop release that wrote this store, or upgrade outloop.',
    });
  }
  const { keySource, keyId, entries } = doc;
  if (keySource !== 'keychain' && keySource !== 'file') throw corrupt('unknown keySource');
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId)) throw corrupt('bad keyId');
  if (!isRecord(entries)) throw corrupt('entries is not an object');
  const map = new Map<string, SealedEntry>();
  for (const [path, e] of Object.entries(entries)) {
    if (!isRecord(e) || typeof e.iv !== 'string' || typeof e.tag !== 'string' || typeof e.data !== 'string' || typeof e.updated !== 'string') {
      throw corrupt(`entry local:${path} is malformed`);
    }
    map.set(path, { iv: e.iv, tag: e.tag, data: e.data, updated: e.updated });
  }
  return { keySource, keyId, entries: map };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
