/**
 * A small strict JSON reader and writer (RFC 8259) for shaping. Not JSON.parse, for two reasons:
 *
 * - numbers keep their source text, so an id like 12345678901234567890 passes through unchanged instead
 *   of being rounded to a double (APIs use such ids, and a contract must not corrupt what it lets through);
 * - objects are Maps in document order (last duplicate wins, as JSON.parse does), so `__proto__` is just a
 *   key and integer-like keys do not jump to the front.
 *
 * A parse failure reports only a byte offset and what was expected, never the text around it: the text is
 * the output a contract exists to hold back.
 */
export class JsonNumber {
  constructor(readonly raw: string) {}
}
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(`not JSON: expected ${expected} at character ${offset}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 512;

export function parseJson(text: string): JsonValue {
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (expected: string): never => {
    throw new JsonSyntaxError(i, expected);
  };
  const str = (): string => {
    // Opening quote already checked by the caller.
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('no control character inside a string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail('a valid escape');
        start = i;
      } else i++;
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting under ${MAX_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a member name');
        const k = str();
        ws();
        if (text[i] !== ':') fail('":"');
        i++;
        // Delete first so a duplicate key moves to its last position, matching what JSON.parse keeps.
        obj.delete(k);
        obj.set(k, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail('"," or "]"');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return new JsonNumber(m[0]);
    }
    return fail('a value');
  };
  // A UTF-8 byte order mark is not JSON, but some Windows tools write one; it carries no data.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const v = value(0);
  ws();
  if (i < text.length) fail('the end of the document');
  return v;
}

/** Serialize; `indent` > 0 pretty-prints like JSON.stringify(v, null, indent). */
export function stringifyJson(v: JsonValue, indent = 0): string {
  const nl = (depth: number) => (indent ? `\n${' '.repeat(indent * depth)}` : '');
  const go = (x: JsonValue, depth: number): string => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return String(x);
    if (typeof x === 'string') return JSON.stringify(x);
    if (x instanceof JsonNumber) return x.raw;
    if (Array.isArray(x)) {
      if (!x.length) return '[]';
      return `[${x.map((e) => nl(depth + 1) + go(e, depth + 1)).join(',')}${nl(depth)}]`;
    }
    if (!x.size) return '{}';
    const sep = indent ? ': ' : ':';
    return `{${[...x].map(([k, e]) => nl(depth + 1) + JSON.stringify(k) + sep + go(e, depth + 1)).join(',')}${nl(depth)}}`;
  };
  return go(v, 0);
}
