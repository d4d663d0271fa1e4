import { parseSize } from '../util/size.js';
import type { RecipeDef } from './schema.js';
import { placeholders, type Template } from './template.js';
import type { LoadedRecipe } from './types.js';

type At = (path: PropertyKey[], message: string, severity?: 'error' | 'warning') => void;

/**
 * A recipe's sandbox keys, checked: sizes that parse, and paths that name a fixed place. A path may use
 * {{project}}, {{tenant}} and {{recipe.dir}}, never a parameter (the caller would choose what the child
 * sees) nor a secret.
 */
export function sandboxLimits(
  def: RecipeDef,
  base: PropertyKey[],
  at: At,
  parse: (source: string, path: PropertyKey[]) => Template,
): Pick<LoadedRecipe, 'maxOutput' | 'maxMemory' | 'sandboxPaths'> {
  const out: Pick<LoadedRecipe, 'maxOutput' | 'maxMemory' | 'sandboxPaths'> = {};
  for (const key of ['maxOutput', 'maxMemory'] as const) {
    const raw = def[key];
    if (raw === undefined) continue;
    const n = parseSize(raw);
    if (n === undefined) at([...base, key], `${key} "${raw}" is not a size like 10MiB, 512KiB or a number of bytes`);
    else out[key] = n;
  }
  const paths = def.sandbox?.paths ?? [];
  if (paths.length) {
    out.sandboxPaths = paths.map((p, i) => {
      const where = [...base, 'sandbox', 'paths', i, 'path'];
      const t = parse(p.path, where);
      for (const ref of placeholders(t)) {
        if (ref.ns === 'params' || ref.ns === 'secrets') at(where, `a sandbox path may not use {{${ref.ns}.${ref.name}}}: only {{project}}, {{tenant}} and {{recipe.dir}}`);
      }
      if (!p.path.startsWith('/') && !p.path.startsWith('{{')) at(where, `sandbox path "${p.path}" must be absolute (or start with {{project}} or {{recipe.dir}})`);
      return { path: t, mode: p.mode };
    });
  }
  return out;
}
