/**
 * Editing config.yaml in place. The yaml Document API reprints the whole file in its own style (flow
 * padding, comment placement and column, sequence indentation), so new pairs are spliced into the text at
 * positions the Document gives, leaving every other byte as the person wrote it. Each result is checked
 * against the same change made on the parsed data; a splice that does not read back exactly falls back to
 * the Document API, and a result that is not valid config is never returned.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { UsageError } from '../errors.js';
import { validateConfigText } from './validate.js';

/** A logical secret name bound to a reference. */
export interface Binding {
  name: string;
  ref: string;
}

/** config.yaml's text with `bindings` set under tenants.TENANT.services.SERVICE.secrets. */
export function editedConfig(file: string, text: string, tenant: string, service: string, bindings: readonly Binding[]): string {
  const grantPath = ['tenants', tenant, 'services', service];
  // Through JSON so that aliased maps become copies: an edit that also lands in another tenant's grant via an
  // anchor must not read back as expected.
  const expected = JSON.parse(JSON.stringify(parseDocument(text).toJS() ?? {})) as Record<string, unknown>;
  for (const b of bindings) setData(expected, [...grantPath, 'secrets', b.name], b.ref, grantPath.length);

  // The splice first, as it keeps the file as written; the Document API knows shapes the splicer does not
  // (comments inside flow maps), at the cost of reprinting. The first that reads back exactly wins.
  const attempts = [() => bindings.reduce((t, b) => spliceBinding(t, grantPath, b), text), () => documentEdit(text, grantPath, bindings)];
  for (const attempt of attempts) {
    let out: string;
    try {
      out = attempt();
    } catch {
      continue;
    }
    if (!readsAs(out, expected)) continue;
    // Never leave an invalid config: the result must pass the same validation a request applies.
    validateConfigText(file, out);
    return out;
  }
  throw new UsageError(`${file} could not be edited automatically (anchors or aliases on the way to the grant?); nothing was imported`, {
    code: 'config_not_editable',
    next: `Add under tenants.${tenant}.services.${service}.secrets by hand: ${bindings.map((b) => `${b.name}: ${b.ref}`).join(', ')}`,
  });
}

function setData(root: Record<string, unknown>, path: string[], value: string, grantDepth: number): void {
  let node = root;
  for (const [i, key] of path.slice(0, -1).entries()) {
    let next = node[key];
    if (typeof next !== 'object' || next === null) {
      next = i === grantDepth - 1 ? { allow: [] } : {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readsAs(text: string, expected: unknown): boolean {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length === 0 && isDeepStrictEqual(doc.toJS() ?? {}, expected);
}

function documentEdit(text: string, grantPath: string[], bindings: readonly Binding[]): string {
  const doc = parseDocument(text);
  if (!doc.hasIn(grantPath)) doc.setIn(grantPath, doc.createNode({ secrets: {}, allow: [] }));
  for (const b of bindings) doc.setIn([...grantPath, 'secrets', b.name], b.ref);
  return doc.toString({ lineWidth: 0 });
}

type Tree = string | readonly [] | { [key: string]: Tree };

/** Splice one binding into the text: replace its value, or add it (with any missing maps above it). */
function spliceBinding(text: string, grantPath: string[], b: Binding): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new Error('unparsable');
  const mapPath = [...grantPath, 'secrets'];
  // The deepest map on the path that exists; what is missing below it is added as one nested pair.
  let depth = mapPath.length;
  while (depth > 0 && !isMap(doc.getIn(mapPath.slice(0, depth), true))) depth--;
  if (depth < mapPath.length && doc.getIn(mapPath.slice(0, depth + 1), true) !== undefined) throw new Error('not a map');
  const map = (depth === 0 ? doc.contents : doc.getIn(mapPath.slice(0, depth), true)) as YAMLMap;
  if (!isMap(map)) throw new Error('not a map');

  if (depth === mapPath.length) {
    const pair = findPair(map, b.name);
    if (pair) {
      const range = (pair.value as Node | null)?.range;
      if (!range) throw new Error('no value range');
      return text.slice(0, range[0]) + scalar(b.ref) + text.slice(range[1]);
    }
  }
  let value: Tree = b.ref;
  let key = b.name;
  for (let i = mapPath.length - 1; i >= depth; i--) {
    // A new service grant states `allow: []`: granting no recipe yet is the person's next decision.
    value = i === grantPath.length - 1 ? { [key]: value, allow: [] } : { [key]: value };
    key = mapPath[i]!;
  }
  return map.flow ? spliceFlow(text, map, key, value) : spliceBlock(text, doc, mapPath.slice(0, depth), map, key, value);
}

function spliceBlock(text: string, doc: Document, path: string[], map: YAMLMap, key: string, value: Tree): string {
  const first = map.items[0] as Pair<Node, Node | null> | undefined;
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null> | undefined;
  if (!first?.key.range || !last) throw new Error('empty block map');
  const col = columnOf(text, first.key.range[0]);
  let step = 2;
  if (path.length) {
    const parent = (path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)) as YAMLMap;
    const owner = findPair(parent, path[path.length - 1]!)?.key.range;
    if (owner && col > columnOf(text, owner[0])) step = col - columnOf(text, owner[0]);
  }
  const end = (last.value ?? last.key).range?.[1];
  if (end === undefined) throw new Error('no range');
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  let at = text[end - 1] === '\n' ? end : text.indexOf('\n', end) + 1;
  let lead = '';
  if (at === 0) {
    at = text.length;
    lead = nl;
  }
  const lines = blockLines(key, value, ' '.repeat(col), ' '.repeat(step));
  return text.slice(0, at) + lead + lines.join(nl) + nl + text.slice(at);
}

function spliceFlow(text: string, map: YAMLMap, key: string, value: Tree): string {
  const end = map.range?.[1];
  if (end === undefined || text[end - 1] !== '}') throw new Error('no closing brace');
  const close = end - 1;
  let j = close - 1;
  while (j >= 0 && /\s/.test(text[j]!)) j--;
  const entry = `${scalar(key)}: ${flow(value)}`;
  if (text[j] === '{') return `${text.slice(0, j)}{ ${entry} }${text.slice(end)}`;
  return text.slice(0, j + 1) + (text[j] === ',' ? ' ' : ', ') + entry + text.slice(j + 1);
}

function blockLines(key: string, value: Tree, indent: string, step: string): string[] {
  if (typeof value === 'string') return [`${indent}${scalar(key)}: ${scalar(value)}`];
  if (Array.isArray(value)) return [`${indent}${scalar(key)}: []`];
  return [`${indent}${scalar(key)}:`, ...Object.entries(value).flatMap(([k, v]) => blockLines(k, v, indent + step, step))];
}

function flow(value: Tree): string {
  if (typeof value === 'string') return scalar(value);
  if (Array.isArray(value)) return '[]';
  return `{ ${Object.entries(value)
    .map(([k, v]) => `${scalar(k)}: ${flow(v)}`)
    .join(', ')} }`;
}

/** Plain when YAML reads it back as this same string in block and flow context alike, else double-quoted. */
function scalar(s: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.:/@+-]*$/.test(s) && !s.endsWith(':') && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s);
  return plain ? s : JSON.stringify(s);
}

function findPair(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Node, Node | null> | undefined;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}
