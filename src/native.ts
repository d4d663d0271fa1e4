import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An N-API addon of ours (native/<name>), built by `npm ci`'s install step, or null when it is not built
 * (no C compiler, or a platform it does not build on): each caller has a way without it.
 */
export function loadNative<T>(name: string): T | null {
  // src/ in a source run, dist/ or dist/chunks/ in the bundle: the package root is one to three up.
  // import.meta.dirname, not a URL: in the bundle it is __dirname, with no path-URL-path round trip.
  for (const up of ['..', '../..', '../../..']) {
    const file = join(import.meta.dirname, up, 'native', name, 'build', 'Release', `${name}.node`);
    if (!existsSync(file)) continue;
    try {
      return openAddon<T>(file);
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Load the addon at `file` (throws if it cannot be). process.dlopen, not require(): the first require()
 * of a process costs ~1.1 ms of CommonJS resolution before the dlopen itself (~0.15 ms), and every exec
 * loads native/spawn just before it starts its child.
 */
export function openAddon<T>(file: string): T {
  const mod = { exports: {} as T };
  process.dlopen(mod, file);
  return mod.exports;
}
