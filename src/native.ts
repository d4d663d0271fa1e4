import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * An N-API addon of ours (native/<name>), built by `npm ci`'s install step, or null when it is not built
 * (no C compiler, or a platform it does not build on): each caller has a way without it.
 */
export function loadNative<T>(name: string): T | null {
  // src/ in a source run, dist/ or dist/chunks/ in the bundle: the package root is one to three up.
  for (const up of ['../', '../../', '../../../']) {
    const file = fileURLToPath(new URL(`${up}native/${name}/build/Release/${name}.node`, import.meta.url));
    if (!existsSync(file)) continue;
    try {
      // node:module only here: importing it loads node's ESM loader on every exec.
      return process.getBuiltinModule('node:module').createRequire(import.meta.url)(file) as T;
    } catch {
      return null;
    }
  }
  return null;
}
