import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';

/**
 * Validated config and recipe files, cached by content. Parsing YAML and validating it with zod costs more
 * than the rest of `outloop exec` together, and an agent calls exec thousands of times with the same
 * files; the cache turns that into one JSON.parse. An entry is used only when its key (the build id, the
 * file's path and the SHA-256 of its exact bytes) matches, so an edited file is always re-validated.
 *
 * The cache lives in the config folder, so writing a forged entry takes the same access as editing
 * config.yaml itself. It is skipped when that folder is not writable, and when running from source
 * (tests), where there is no build id to key on.
 */
declare const __OUTLOOP_BUILD_ID__: string | undefined;
export const BUILD_ID: string | undefined = typeof __OUTLOOP_BUILD_ID__ === 'string' ? __OUTLOOP_BUILD_ID__ : undefined;

export class ParseCache {
  constructor(private readonly dir: string | undefined) {}

  static forConfigDir(configDir: string): ParseCache {
    return new ParseCache(BUILD_ID ? join(configDir, '.cache') : undefined);
  }

  get<T>(kind: string, path: string, text: string): T | undefined {
    if (!this.dir) return undefined;
    try {
      const entry = JSON.parse(readFileSync(this.file(kind, path), 'utf8')) as { key: string; value: T };
      return entry.key === key(path, text) ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  set(kind: string, path: string, text: string, value: unknown): void {
    if (!this.dir) return;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file(kind, path), JSON.stringify({ key: key(path, text), value }), 0o600);
    } catch {
      // A read-only config folder just means no cache: correctness never depends on it.
    }
  }

  private file(kind: string, path: string): string {
    return join(this.dir!, `${kind}-${createHash('sha256').update(path).digest('hex').slice(0, 20)}.json`);
  }
}

function key(path: string, text: string): string {
  return createHash('sha256').update(`${BUILD_ID}\0${path}\0${text}`).digest('hex');
}
