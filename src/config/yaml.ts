import { CST, Lexer, parseDocument, isMap, isScalar, visit, type Document } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import type { z } from 'zod';
import { didYouMean } from '../util/suggest.js';

/**
 * YAML with positions. Every problem in config.yaml or a recipe is reported as file:line:column, so a
 * person can jump straight to it; zod validates the shape and this module maps its paths back to nodes.
 */
export interface LocatedYaml {
  file: string;
  value: unknown;
  /** Position of the node at `path` (the key itself when `key` is set), or the nearest ancestor found. */
  locate(path: readonly PropertyKey[], key?: string): { line: number; col: number };
  problems: ConfigProblem[];
}

// Deeper than any real config or recipe (they nest about 8 levels); the YAML library and zod recurse, and
// a hostile file nested thousands deep would otherwise end in a stack overflow.
const MAX_DEPTH = 64;
// Aliases expanded in one file: a few are normal (`<<: *defaults`), a billion-laughs file has millions.
const MAX_ALIASES = 100;

export function parseYaml(file: string, text: string): LocatedYaml {
  const quoted = quoteFlowDashes(text);
  // Offsets are in the quoted text; positions are reported in the text the person wrote.
  const linePos = positionsIn(text, quoted.inserted);
  const refuse = (offset: number, message: string): LocatedYaml => ({ file, value: undefined, locate: () => ({ line: 1, col: 1 }), problems: [{ file, ...linePos(offset), message }] });
  if (quoted.tooDeepAt !== undefined) return refuse(quoted.tooDeepAt, `nested more than ${MAX_DEPTH} levels deep`);
  let doc: Document;
  try {
    doc = parseDocument(quoted.text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    // The parser recurses: block nesting hundreds of levels deep overflows its stack.
    if (err instanceof RangeError) return refuse(0, `nested more than ${MAX_DEPTH} levels deep`);
    throw err;
  }
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const deep = /call stack/i.test(err.message);
    problems.push({ file, ...linePos(err.pos[0]), message: deep ? `nested more than ${MAX_DEPTH} levels deep` : firstLine(err.message) });
  }
  let value: unknown;
  if (!problems.length) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
      if (tooDeep(value)) problems.push({ file, line: 1, col: 1, message: `nested more than ${MAX_DEPTH} levels deep` });
    } catch (err) {
      // An alias to an anchor not (yet) defined, or more alias expansion than any real file needs.
      const msg = (err as Error).message;
      problems.push({
        file,
        ...linePos(firstAlias(doc) ?? 0),
        message: err instanceof RangeError ? `nested more than ${MAX_DEPTH} levels deep`
          : /alias count/i.test(msg) ? `aliases expand to too much (more than ${MAX_ALIASES}; a "billion laughs" file?)` : firstLine(msg),
      });
    }
  }
  const locate = (path: readonly PropertyKey[], key?: string) => {
    const full = key === undefined ? path : [...path, key];
    for (let n = full.length; n >= 0; n--) {
      const sub = full.slice(0, n) as unknown[];
      const isKeyOfLast = n === full.length && key !== undefined;
      const node = isKeyOfLast ? keyNode(doc, sub) : doc.getIn(sub, true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return linePos(range[0]);
    }
    return { line: 1, col: 1 };
  };
  return { file, value: problems.length ? undefined : value, locate, problems };
}

/** Where the first alias (`*name`) is, for an alias problem. */
function firstAlias(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

/** Does a parsed value nest deeper than MAX_DEPTH? Walked without recursion, before zod recurses into it. */
function tooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= MAX_DEPTH) return true;
    for (const x of Object.values(v as object)) stack.push([x, d + 1]);
  }
  return false;
}

/**
 * Accept a lone `-` inside a flow list (`run: [curl, -K, -, URL]`) as the string "-". Strict YAML 1.2
 * reads it as the start of a block sequence and fails, but PyYAML and most people read it as a dash, and
 * it is exactly how curl's "read config from stdin" is spelled. Found with the YAML lexer, not a regex, so
 * dashes in strings and block lists are untouched.
 */
export function quoteFlowDashes(text: string): { text: string; inserted: number[]; tooDeepAt?: number } {
  const ZERO_WIDTH = new Set(['\u0002', '\u0018', '\u001f']);
  let offset = 0;
  let depth = 0;
  const at: number[] = [];
  for (const tok of new Lexer().lex(text)) {
    const type = CST.tokenType(tok);
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      // `[[[[...` thousands deep: stop here, before the parser recurses into it.
      if (++depth > MAX_DEPTH) return { text, inserted: [], tooDeepAt: offset };
    }
    else if (type === 'flow-seq-end' || type === 'flow-map-end') depth = Math.max(0, depth - 1);
    else if (type === 'seq-item-ind' && depth > 0) at.push(offset);
    if (!ZERO_WIDTH.has(tok)) offset += tok.length;
  }
  let out = text;
  for (const i of [...at].reverse()) out = `${out.slice(0, i)}"-"${out.slice(i + 1)}`;
  // Each quoted dash adds two characters; record where (in the new text) so offsets can be mapped back.
  return { text: out, inserted: at.map((i, n) => i + 2 * n) };
}

/** offset in the quoted text -> 1-based line and column in the original. */
function positionsIn(original: string, inserted: number[]): (offset: number) => { line: number; col: number } {
  const lineStarts = [0];
  for (let i = 0; i < original.length; i++) if (original[i] === '\n') lineStarts.push(i + 1);
  return (offset) => {
    const o = offset - 2 * inserted.filter((at) => at < offset).length;
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - lineStarts[lo]! + 1 };
  };
}

function keyNode(doc: Document, path: unknown[]): unknown {
  const parent = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
  return pair?.key;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** zod issues as file:line:column problems; with the schema, an unknown key gets the closest known one. */
export function zodProblems(y: LocatedYaml, error: z.ZodError, schema?: z.ZodType): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const pos = y.locate(path, k);
        out.push({ file: y.file, ...pos, message: `unknown key "${k}"${where(path)}${schema ? didYouMean(k, keysAt(schema, path)) : ''}` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // Point at the key itself and say what a key must look like, not zod's "Invalid key in record".
      const key = String(path[path.length - 1]);
      const why = issue.issues.map((i) => i.message).join('; ');
      out.push({ file: y.file, ...y.locate(path.slice(0, -1), key), message: `"${key}" is not a valid name in ${describePath(path.slice(0, -1))}: ${why}` });
      continue;
    }
    const pos = y.locate(path);
    out.push({ file: y.file, ...pos, message: `${describePath(path)}: ${issue.message}` });
  }
  return out;
}

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}
const defOf = (s: z.ZodType): ZodDef => (s as unknown as { _zod: { def: ZodDef } })._zod.def;

/** The keys an object schema at `path` knows (through defaults, records, lists and unions). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const d = defOf(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.type === 'pipe' && d.in) return unwrap(d.in);
    if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
    return [s];
  };
  let at = unwrap(schema);
  for (const seg of path) {
    at = at.flatMap((s) => {
      const d = defOf(s);
      if (d.type === 'object' && d.shape && typeof seg === 'string' && Object.hasOwn(d.shape, seg)) return unwrap(d.shape[seg]!);
      if (d.type === 'record' && d.valueType) return unwrap(d.valueType);
      if (d.type === 'array' && d.element && typeof seg === 'number') return unwrap(d.element);
      return [];
    });
  }
  return at.flatMap((s) => Object.keys(defOf(s).shape ?? {}));
}

function where(path: readonly PropertyKey[]): string {
  return path.length ? ` in ${describePath(path)}` : '';
}

export function describePath(path: readonly PropertyKey[]): string {
  if (!path.length) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
