import { createHmac } from 'node:crypto';
import type { MaskStrategy, OutputContract } from './contract.js';
import { strongest } from './contract.js';
import { JsonNumber, JsonSyntaxError, parseJson, stringifyJson, type JsonObject, type JsonValue } from './json.js';
import { mustParsePath, type PathSegment } from './path.js';
import { findPii, type PiiKind } from './pii.js';

/**
 * Apply an output contract to a run's (already redacted) output. Pure: the caller passes the hash key.
 *
 * Order of work, in one walk of the document: `pick` decides what is kept (a kept value is kept whole),
 * `mask` paths transform every scalar at or below them, and personal data is masked by kind in every
 * string (and object key) that is still in clear. Paths match the input document, so `[N]` means the
 * N-th element of the API's array even though unpicked elements are dropped.
 */
export interface ShapeCounts {
  /** Values selected by pick paths (0 without pick). */
  picked: number;
  /** Scalars masked by a mask path. */
  masked: number;
  /** Personal data found and masked by kind. */
  pii: number;
}

export interface Shaped extends ShapeCounts {
  text: string;
}

export type ShapeResult = { ok: true; shaped: Shaped } | { ok: false; offset: number; expected: string };

interface Node {
  end: boolean;
  strategy?: MaskStrategy;
  keys: Map<string, Node>;
  indexes: Map<number, Node>;
  any?: Node;
}

const newNode = (): Node => ({ end: false, keys: new Map(), indexes: new Map() });

function trie(paths: [PathSegment[], MaskStrategy | undefined][]): Node {
  const root = newNode();
  for (const [segs, strategy] of paths) {
    let n = root;
    for (const s of segs) {
      if (s.kind === 'any') n = n.any ??= newNode();
      else if (s.kind === 'key') n = n.keys.get(s.name) ?? (n.keys.set(s.name, newNode()), n.keys.get(s.name)!);
      else n = n.indexes.get(s.index) ?? (n.indexes.set(s.index, newNode()), n.indexes.get(s.index)!);
    }
    n.end = true;
    if (strategy) n.strategy = strongest(n.strategy, strategy);
  }
  return root;
}

function childrenFor(nodes: Node[], key: string | number): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    const c = typeof key === 'number' ? n.indexes.get(key) : n.keys.get(key);
    if (c) out.push(c);
    if (n.any) out.push(n.any);
  }
  return out;
}

/** `hmac:` and 96 bits of HMAC-SHA256: enough to tell values apart, short enough to read. */
export function hashMask(key: Buffer, text: string): string {
  return `hmac:${createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 24)}`;
}

export function partialMask(text: string): string {
  // Never more than half: a short value must not come through almost whole.
  const keep = Math.min(4, Math.floor([...text].length / 2));
  return `****${keep ? [...text].slice(-keep).join('') : ''}`;
}

// Equal data in different spellings (a card with and without spaces, an email in capitals) hashes alike.
function normalizeForHash(kind: PiiKind, text: string): string {
  if (kind === 'email') return text.toLowerCase();
  if (kind === 'phone') return text.replace(/[^\d+]/g, '');
  return text.replace(/[\s-]/g, '').toUpperCase();
}

export function shapeOutput(raw: string, contract: OutputContract, hashKey: Buffer): ShapeResult {
  const counts: ShapeCounts = { picked: 0, masked: 0, pii: 0 };
  const kinds = new Set(Object.keys(contract.pii) as PiiKind[]);
  const maskText = (text: string, how: MaskStrategy, label: string, hashInput = text): string =>
    how === 'redact' ? `[MASKED${label}]` : how === 'partial' ? partialMask(text) : hashMask(hashKey, hashInput);
  const scrubPii = (text: string): string => {
    if (!kinds.size) return text;
    const hits = findPii(text, kinds);
    if (!hits.length) return text;
    let out = '';
    let at = 0;
    for (const h of hits) {
      const found = text.slice(h.start, h.end);
      out += text.slice(at, h.start) + maskText(found, contract.pii[h.kind]!, `:${h.kind}`, `${h.kind}:${normalizeForHash(h.kind, found)}`);
      at = h.end;
      counts.pii++;
    }
    return out + text.slice(at);
  };

  if (contract.format === 'text') return { ok: true, shaped: { text: scrubPii(raw), ...counts } };

  // Empty output has nothing to shape or to hide (a failed call that printed nothing): it passes as empty.
  if (raw.trim() === '') return { ok: true, shaped: { text: raw, ...counts } };
  let doc: JsonValue;
  try {
    doc = parseJson(raw);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, offset: err.offset, expected: err.expected };
    throw err;
  }

  const picks = contract.pick === undefined ? undefined : trie(contract.pick.map((p) => [mustParsePath(p), undefined]));
  const masks = trie(Object.entries(contract.mask).map(([p, s]) => [mustParsePath(p), s]));

  const walk = (v: JsonValue, pickNodes: Node[] | 'all', maskNodes: Node[], inherited: MaskStrategy | undefined): JsonValue | undefined => {
    let all = pickNodes === 'all';
    if (!all && (pickNodes as Node[]).some((n) => n.end)) {
      all = true;
      counts.picked++;
    }
    let how = inherited;
    for (const m of maskNodes) if (m.end) how = strongest(how, m.strategy);
    const nextPicks = (key: string | number): Node[] | 'all' | undefined => {
      if (all) return 'all';
      const c = childrenFor(pickNodes as Node[], key);
      return c.length ? c : undefined;
    };
    if (Array.isArray(v)) {
      const out: JsonValue[] = [];
      v.forEach((e, i) => {
        const p = nextPicks(i);
        if (p === undefined) return;
        // An element the rest of the path does not reach stays as null, so positions still line up.
        out.push(walk(e, p, childrenFor(maskNodes, i), how) ?? null);
      });
      return out;
    }
    if (v instanceof Map) {
      const out: JsonObject = new Map();
      for (const [k, e] of v) {
        const p = nextPicks(k);
        if (p === undefined) continue;
        const r = walk(e, p, childrenFor(maskNodes, k), how);
        if (r === undefined) continue;
        // A key can be personal data too (a map keyed by email); a masked key that collides is numbered.
        const clean = scrubPii(k);
        let key = clean;
        for (let n = 2; key !== k && out.has(key); n++) key = `${clean}#${n}`;
        out.set(key, r);
      }
      return out;
    }
    if (!all) return undefined;
    if (v === null) return null;
    const text = typeof v === 'string' ? v : v instanceof JsonNumber ? v.raw : String(v);
    if (how) {
      counts.masked++;
      // Typed, so the string "42" and the number 42 do not look equal.
      return maskText(text, how, '', `${typeof v === 'string' ? 's' : 'n'}:${text}`);
    }
    if (typeof v === 'string') return scrubPii(v);
    // A card number sent as a JSON number is still a card number; other kinds need string form.
    if (v instanceof JsonNumber && kinds.has('card') && findPii(v.raw, new Set(['card'])).length) {
      counts.pii++;
      return maskText(v.raw, contract.pii.card!, ':card', `card:${v.raw}`);
    }
    return v;
  };

  const shaped = walk(doc, picks ? [picks] : 'all', [masks], undefined) ?? null;
  // Keep the document's own style: pretty in, pretty out; and its final newline.
  const pretty = /\n\s*\S/.test(raw.trimEnd());
  const text = stringifyJson(shaped, pretty ? 2 : 0) + (/\n\s*$/.test(raw) ? '\n' : '');
  return { ok: true, shaped: { text, ...counts } };
}
