import { sha256Hex, hmacSha256Hex, timingSafeEqual } from '../digest.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';

/**
 * Validated config and recipe files, cached by content. Parsing YAML and validating it with zod costs more
 * than the rest of `outloop exec` together, and an agent calls exec thousands of times with the same
 * files; the cache turns that into one JSON.parse. An entry is used only when its key (the build id, the
 * file's path and the SHA-256 of its exact bytes) matches, so an edited file is always re-validated.
 *
 * The cache is a hint, checked against its source: each entry carries an HMAC, under a key derived from
 * the install key, over its key and value, and its key binds the build, the path and the SHA-256 of the
 * exact bytes just read. An entry edited while the YAML stayed the same fails the MAC and the YAML is
 * parsed again, so what runs, the recipe hash the audit records and the hash approvals bind to all come
 * from the bytes on disk. (Writing a valid entry takes the install key: in personal mode the agent's user
 * can read it, as it can edit the YAML itself; in system mode only the daemon can.) The cache is skipped
 * when its folder is not writable, when there is no install key to read, and when running from source
 * (tests), where there is no build id to key on.
 */
declare const __OUTLOOP_BUILD_ID__: string | undefined;
export const BUILD_ID: string | undefined = typeof __OUTLOOP_BUILD_ID__ === 'string' ? __OUTLOOP_BUILD_ID__ : undefined;

export class ParseCache {
  private macKey: Buffer | null | undefined;

  /** `macKey` is read on first use; when it throws or gives nothing, there is no cache. */
  constructor(private readonly dir: string | undefined, private readonly readMacKey: () => Buffer | undefined) {}

  static forConfigDir(configDir: string, readMacKey: () => Buffer | undefined): ParseCache {
    return new ParseCache(BUILD_ID ? join(configDir, '.cache') : undefined, readMacKey);
  }

  get<T>(kind: string, path: string, text: string): T | undefined {
    if (!this.dir) return undefined;
    try {
      const raw = readFileSync(this.file(kind, path), 'utf8');
      const nl = raw.indexOf('\n');
      const k = this.key();
      if (nl !== 64 || !k) return undefined;
      const payload = raw.slice(nl + 1);
      if (!timingSafeEqual(Buffer.from(raw.slice(0, 64)), Buffer.from(mac(k, payload)))) return undefined;
      const entry = JSON.parse(payload) as { key: string; value: T };
      return entry.key === key(path, text) ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  set(kind: string, path: string, text: string, value: unknown): void {
    if (!this.dir) return;
    try {
      const k = this.key();
      if (!k) return;
      const payload = JSON.stringify({ key: key(path, text), value });
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file(kind, path), `${mac(k, payload)}\n${payload}`, 0o600);
    } catch {
      // A read-only config folder just means no cache: correctness never depends on it.
    }
  }

  private key(): Buffer | undefined {
    if (this.macKey === undefined) {
      try {
        this.macKey = this.readMacKey() ?? null;
      } catch {
        this.macKey = null; // no key, no cache; whoever needs the key for real reports why
      }
    }
    return this.macKey ?? undefined;
  }

  private file(kind: string, path: string): string {
    return join(this.dir!, `${kind}-${sha256Hex(path).slice(0, 20)}.json`);
  }
}

function mac(k: Buffer, payload: string): string {
  return hmacSha256Hex(k, payload);
}

function key(path: string, text: string): string {
  return sha256Hex(`${BUILD_ID}\0${path}\0${text}`);
}
