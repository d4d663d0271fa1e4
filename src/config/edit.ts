/**
 * Editing config.yaml in place. The yaml Document API reprints the whole file in its own style (flow
 * padding, comment placement and column, sequence indentation), so new pairs are spliced into the text at
 * positions the Document gives, leaving every other byte as the person wrote it. Each result is checked
 * against the same change made on the parsed data; a splice that does not read back exactly falls back to
 * the Document API, and a result that is not valid config is never returned.
 */
import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { UsageError } from '../errors.js';
import { validateConfigText } from './validate.js';

/** A logical secret name bound to a reference. */
export interface Binding {
  name: string;
  ref: string;
}

/** A value to write: a scalar, a list (written in flow style), or a map. */
export type Tree = string | number | boolean | readonly Tree[] | { readonly [key: string]: Tree };
export type Path = readonly (string | number)[];

/**
 * One change to config.yaml. `set` writes a key (creating the maps above it); `push` appends to a list
 * (creating it); `remove` deletes a map key or a list item (by index).
 */
export type ConfigOp = { op: 'set'; path: Path; value: Tree } | { op: 'push'; path: Path; value: Tree } | { op: 'remove'; path: Path };

/** The text could not be edited so that it reads back as intended (anchors, odd shapes). */
export class NotEditableError extends Error {}

/**
 * config.yaml's text with `ops` applied: spliced into the text where possible, else through the
 * Document API; either way it must read back exactly as the same change made on the parsed data, and pass
 * validation (a ConfigError otherwise). Throws NotEditableError when neither way reads back right.
 */
export function editConfig(file: string, text: string, ops: readonly ConfigOp[]): string {
  // Through JSON so that aliased maps become copies: an edit that also lands in another tenant's grant via an
  // anchor must not read back as expected.
  const expected = JSON.parse(JSON.stringify(parseDocument(text).toJS() ?? {})) as Record<string, unknown>;
  for (const op of ops) applyData(expected, op);
  // The splice first, as it keeps the file as written; the Document API knows shapes the splicer does not
  // (comments inside flow maps), at the cost of reprinting. The first that reads back exactly wins.
  const attempts = [() => ops.reduce((t, op) => splice(t, op), text), () => documentEdit(text, ops)];
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
  throw new NotEditableError('not editable');
}

/** config.yaml's text with `bindings` set under tenants.TENANT.services.SERVICE.secrets. */
export function editedConfig(file: string, text: string, tenant: string, service: string, bindings: readonly Binding[]): string {
  const grantPath = ['tenants', tenant, 'services', service];
  const data = parseDocument(text).toJS() as unknown;
  const grant = dig(data, grantPath);
  const map = Object.fromEntries(bindings.map((b) => [b.name, b.ref]));
  // A new service grant states `allow: []`: granting no recipe yet is the person's next decision.
  const ops: ConfigOp[] =
    grant === undefined || grant === null
      ? [{ op: 'set', path: grantPath, value: { secrets: map, allow: [] } }]
      : dig(grant, ['secrets']) === undefined
        ? [{ op: 'set', path: [...grantPath, 'secrets'], value: map }]
        : bindings.map((b) => ({ op: 'set' as const, path: [...grantPath, 'secrets', b.name], value: b.ref }));
  try {
    return editConfig(file, text, ops);
  } catch (err) {
    if (!(err instanceof NotEditableError)) throw err;
    throw new UsageError(`${file} could not be edited automatically (anchors or aliases on the way to the grant?); nothing was imported`, {
      code: 'config_not_editable',
      next: `Add under tenants.${tenant}.services.${service}.secrets by hand: ${bindings.map((b) => `${b.name}: ${b.ref}`).join(', ')}`,
    });
  }
}

/** The value at `path` in parsed data (own properties only), or undefined. */
export function dig(data: unknown, path: Path): unknown {
  let node = data;
  for (const k of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, k)) return undefined;
    node = (node as Record<string | number, unknown>)[k];
  }
  return node;
}

function applyData(root: Record<string, unknown>, op: ConfigOp): void {
  let node: Record<string | number, unknown> = root;
  const path = op.path;
  for (const key of path.slice(0, -1)) {
    let next = node[key];
    if (typeof next !== 'object' || next === null) {
      next = {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  const clone = (v: Tree) => JSON.parse(JSON.stringify(v)) as unknown;
  if (op.op === 'set') node[last] = clone(op.value);
  else if (op.op === 'push') node[last] = [...(Array.isArray(node[last]) ? (node[last] as unknown[]) : []), clone(op.value)];
  else if (Array.isArray(node)) node.splice(Number(last), 1);
  else delete node[last];
}

function readsAs(text: string, expected: unknown): boolean {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length === 0 && isDeepStrictEqual(doc.toJS() ?? {}, expected);
}

function documentEdit(text: string, ops: readonly ConfigOp[]): string {
  const doc = parseDocument(text);
  for (const op of ops) {
    if (op.op === 'set') doc.setIn(op.path, doc.createNode(op.value));
    else if (op.op === 'push') {
      if (isSeq(doc.getIn(op.path, true))) doc.addIn(op.path, doc.createNode(op.value));
      else doc.setIn(op.path, doc.createNode([op.value]));
    } else doc.deleteIn(op.path);
  }
  const out = doc.toString({ lineWidth: 0 });
  return text.endsWith('\n') || out.endsWith('\n') ? out : `${out}\n`;
}

function splice(text: string, op: ConfigOp): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new Error('unparsable');
  if (op.op === 'set') return spliceSet(text, doc, op.path, op.value);
  if (op.op === 'push') {
    const seq = doc.getIn(op.path, true);
    if (seq === undefined || (isScalar(seq) && seq.value === null)) return spliceSet(text, doc, op.path, [op.value]);
    if (!isSeq(seq)) throw new Error('not a list');
    return seq.flow || !seq.items.length ? spliceFlowItem(text, seq, flow(op.value)) : spliceBlockItem(text, seq, op.value);
  }
  return spliceRemove(text, doc, op.path);
}

/** Set one key: replace its value, or add it (with any missing maps above it). */
function spliceSet(text: string, doc: Document, path: Path, v: Tree): string {
  const mapPath = path.slice(0, -1);
  // The deepest map on the path that exists; what is missing below it is added as one nested pair.
  let depth = mapPath.length;
  while (depth > 0 && !isMap(doc.getIn(mapPath.slice(0, depth), true))) depth--;
  if (depth < mapPath.length && doc.getIn(mapPath.slice(0, depth + 1), true) !== undefined) throw new Error('not a map');
  const map = (depth === 0 ? doc.contents : doc.getIn(mapPath.slice(0, depth), true)) as YAMLMap;
  if (!isMap(map)) throw new Error('not a map');

  if (depth === mapPath.length) {
    const pair = findPair(map, String(path[path.length - 1]));
    if (pair) {
      const node = pair.value as Node | null;
      const range = node?.range;
      // A scalar or a flow collection is replaced in place; a block collection is left to the Document API.
      if (!range || !node || (isCollection(node) && !node.flow)) throw new Error('no value range');
      return text.slice(0, range[0]) + flow(v) + text.slice(range[1]);
    }
  }
  let value: Tree = v;
  let key = String(path[path.length - 1]);
  for (let i = mapPath.length - 1; i >= depth; i--) {
    value = { [key]: value };
    key = String(mapPath[i]);
  }
  return map.flow ? spliceFlow(text, map, key, value) : spliceBlock(text, doc, mapPath.slice(0, depth), map, key, value);
}

/** Append an item to a flow list (`[a, b]` -> `[a, b, c]`); an empty block value counts as `[]`. */
function spliceFlowItem(text: string, seq: YAMLSeq, item: string): string {
  const end = seq.range?.[1];
  if (end === undefined || text[end - 1] !== ']') throw new Error('no closing bracket');
  let j = end - 2;
  while (j >= 0 && /\s/.test(text[j]!)) j--;
  if (text[j] === '[') return `${text.slice(0, j)}[${item}]${text.slice(end)}`;
  return text.slice(0, j + 1) + (text[j] === ',' ? ' ' : ', ') + item + text.slice(j + 1);
}

/** Append a `- item` line after the last item of a block list, at the same column. */
function spliceBlockItem(text: string, seq: YAMLSeq, item: Tree): string {
  const first = seq.items[0] as Node | undefined;
  const last = seq.items[seq.items.length - 1] as Node | undefined;
  if (!first?.range || !last?.range) throw new Error('no range');
  const dash = text.lastIndexOf('-', first.range[0]);
  if (dash < 0) throw new Error('no dash');
  const col = columnOf(text, dash);
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const end = last.range[1];
  let at = text[end - 1] === '\n' ? end : text.indexOf('\n', end) + 1;
  let lead = '';
  if (at === 0) {
    at = text.length;
    lead = nl;
  }
  return `${text.slice(0, at)}${lead}${' '.repeat(col)}- ${flow(item)}${nl}${text.slice(at)}`;
}

/** Delete a key's lines (block), or an entry and its comma (flow). */
function spliceRemove(text: string, doc: Document, path: Path): string {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1]!;
  let start: number | undefined;
  let end: number | undefined;
  let items: { start: number; end: number }[];
  let index: number;
  if (isMap(parent)) {
    items = parent.items.map((p) => ({ start: (p.key as Node).range![0], end: ((p.value as Node | null) ?? (p.key as Node)).range![1] }));
    index = parent.items.findIndex((p) => isScalar(p.key) && p.key.value === last);
  } else if (isSeq(parent)) {
    items = parent.items.map((n) => ({ start: (n as Node).range![0], end: (n as Node).range![1] }));
    index = Number(last);
  } else throw new Error('no parent');
  if (index < 0 || index >= items.length) throw new Error('absent');
  if (items.length === 1 && !(parent as YAMLMap | YAMLSeq).flow && path.length > 1) {
    // The last entry of a block collection: the collection becomes `{}` or `[]` after its key, not null.
    const owner = path.length === 2 ? doc.contents : doc.getIn(path.slice(0, -2), true);
    const key = isMap(owner) ? findPair(owner, String(path[path.length - 2]))?.key.range : undefined;
    const stop = items[0]!.end;
    if (!key) throw new Error('no owner key');
    const nl = text.indexOf('\n', text[stop - 1] === '\n' ? stop - 1 : stop);
    return `${text.slice(0, key[1])}: ${isMap(parent) ? '{}' : '[]'}${nl < 0 ? '' : text.slice(nl)}`;
  }
  if (!(parent as YAMLMap | YAMLSeq).flow) {
    // The whole lines of the entry: from its line's start (the dash, for a list) to the end of its last line.
    ({ start, end } = items[index]!);
    start = text.lastIndexOf('\n', start - 1) + 1;
    const nl = text.indexOf('\n', text[end - 1] === '\n' ? end - 1 : end);
    end = nl < 0 ? text.length : nl + 1;
    return text.slice(0, start) + text.slice(end);
  }
  if (index + 1 < items.length) return text.slice(0, items[index]!.start) + text.slice(items[index + 1]!.start);
  if (index > 0) return text.slice(0, items[index - 1]!.end) + text.slice(items[index]!.end);
  return text.slice(0, items[index]!.start) + text.slice(items[index]!.end);
}

function spliceBlock(text: string, doc: Document, path: Path, map: YAMLMap, key: string, value: Tree): string {
  const first = map.items[0] as Pair<Node, Node | null> | undefined;
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null> | undefined;
  if (!first?.key.range || !last) throw new Error('empty block map');
  const col = columnOf(text, first.key.range[0]);
  let step = 2;
  if (path.length) {
    const parent = (path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)) as YAMLMap;
    const owner = findPair(parent, String(path[path.length - 1]))?.key.range;
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
  if (typeof value !== 'object' || isList(value) || !Object.keys(value).length) return [`${indent}${scalar(key)}: ${flow(value)}`];
  return [`${indent}${scalar(key)}:`, ...Object.entries(value).flatMap(([k, v]) => blockLines(k, v, indent + step, step))];
}

function isList(value: Tree): value is readonly Tree[] {
  return Array.isArray(value);
}

function flow(value: Tree): string {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return scalar(value);
  if (isList(value)) return `[${value.map(flow).join(', ')}]`;
  if (!Object.keys(value).length) return '{}';
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
