import { formatPath, mustParsePath, type PathSegment } from './path.js';
import { PII_KINDS, type PiiKind } from './pii.js';

/**
 * Output contracts: what a recipe's output may carry to the agent, and how a tenant's grant tightens it.
 * Pure data in, pure data out; the broker applies the result (src/output/shape.ts).
 */
export const MASK_STRATEGIES = ['partial', 'hash', 'redact'] as const;
export type MaskStrategy = (typeof MASK_STRATEGIES)[number];

/** As written in a recipe's `output:` or a grant's `output.<recipe>:`. */
export interface OutputSpec {
  format?: 'json' | 'text' | undefined;
  pick?: string[] | undefined;
  mask?: Record<string, MaskStrategy> | undefined;
  pii?: PiiKind[] | Partial<Record<PiiKind, MaskStrategy>> | undefined;
  maxBytes?: number | undefined;
}

/** What applies to one run, after tightening; paths in canonical spelling, sorted. */
export interface OutputContract {
  format: 'json' | 'text';
  /** undefined: the whole document passes; []: nothing does (the tightened picks did not overlap). */
  pick?: string[];
  mask: Record<string, MaskStrategy>;
  pii: Partial<Record<PiiKind, MaskStrategy>>;
  maxBytes?: number;
}

/**
 * Strength order, weakest first: partial shows 4 characters, hash only whether two values are equal,
 * redact nothing. Two rules on one value keep the stronger, so a grant can never loosen a recipe.
 */
export function strongest(a: MaskStrategy | undefined, b: MaskStrategy | undefined): MaskStrategy | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return MASK_STRATEGIES.indexOf(a) >= MASK_STRATEGIES.indexOf(b) ? a : b;
}

function piiMap(pii: OutputSpec['pii']): Partial<Record<PiiKind, MaskStrategy>> {
  if (!pii) return {};
  if (Array.isArray(pii)) return Object.fromEntries(pii.map((k) => [k, 'redact' as const]));
  return { ...pii };
}

/** `a` selects everything `b` selects and more (b lies at or below a). */
function covers(a: PathSegment[], b: PathSegment[]): boolean {
  if (a.length > b.length) return false;
  return a.every((s, i) => {
    const t = b[i]!;
    if (s.kind === 'any') return true;
    if (s.kind === 'key') return t.kind === 'key' && t.name === s.name;
    return t.kind === 'index' && t.index === s.index;
  });
}

/** The paths both pick lists let through: each path of one side that lies inside a path of the other. */
export function intersectPicks(a: string[], b: string[]): string[] {
  const pa = a.map(mustParsePath);
  const pb = b.map(mustParsePath);
  const keep = [...pa.filter((p) => pb.some((q) => covers(q, p))), ...pb.filter((p) => pa.some((q) => covers(q, p)))];
  return [...new Set(keep.map(formatPath))].sort();
}

/**
 * The effective contract of one recipe for one tenant: the recipe's own, tightened by the grant's entry
 * for that recipe and its `"*"` entry. Picks intersect, masks and personal-data kinds add up (the
 * stronger strategy wins), maxBytes takes the smaller. A grant may add a contract to a recipe without one.
 * undefined when nothing applies.
 */
export function effectiveContract(recipe: OutputSpec | undefined, ...grant: (OutputSpec | undefined)[]): OutputContract | undefined {
  const specs = [recipe ? { format: 'json' as const, ...recipe } : undefined, ...grant].filter((s): s is OutputSpec => s !== undefined);
  if (!specs.length) return undefined;
  let pick: string[] | undefined;
  const mask: Record<string, MaskStrategy> = {};
  const pii: Partial<Record<PiiKind, MaskStrategy>> = {};
  let maxBytes: number | undefined;
  let json = false;
  for (const s of specs) {
    if (s.pick) {
      const mine = [...new Set(s.pick.map((p) => formatPath(mustParsePath(p))))].sort();
      pick = pick === undefined ? mine : intersectPicks(pick, mine);
    }
    for (const [path, how] of Object.entries(s.mask ?? {})) {
      const key = formatPath(mustParsePath(path));
      mask[key] = strongest(mask[key], how)!;
    }
    for (const [kind, how] of Object.entries(piiMap(s.pii)) as [PiiKind, MaskStrategy][]) pii[kind] = strongest(pii[kind], how)!;
    if (s.maxBytes !== undefined) maxBytes = maxBytes === undefined ? s.maxBytes : Math.min(maxBytes, s.maxBytes);
    if (s.format === 'json' || s.pick || (s.mask && Object.keys(s.mask).length)) json = true;
  }
  const sortedPii = Object.fromEntries(PII_KINDS.filter((k) => pii[k]).map((k) => [k, pii[k]!]));
  const sortedMask = Object.fromEntries(Object.keys(mask).sort().map((k) => [k, mask[k]!]));
  return {
    format: json ? 'json' : 'text',
    ...(pick === undefined ? {} : { pick }),
    mask: sortedMask,
    pii: sortedPii,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
}

/** One line for `check` and `--dry-run`. */
export function describeContract(c: OutputContract): string {
  const parts: string[] = [c.format];
  if (c.pick) parts.push(c.pick.length ? `pick ${c.pick.join(', ')}` : 'pick nothing (the grant and recipe picks do not overlap)');
  const masks = Object.entries(c.mask);
  if (masks.length) parts.push(`mask ${masks.map(([p, s]) => `${p}=${s}`).join(', ')}`);
  const kinds = Object.entries(c.pii);
  if (kinds.length) parts.push(`pii ${kinds.map(([k, s]) => `${k}=${s}`).join(', ')}`);
  if (c.maxBytes !== undefined) parts.push(`maxBytes ${c.maxBytes}`);
  return parts.join('; ');
}
