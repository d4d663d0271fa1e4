/**
 * The JSON path syntax of output contracts, deliberately small so a person can read a contract at a glance:
 *
 *   $.total_count            a member of the root ($ and the leading dot are optional: `total_count`)
 *   data[*].id               `[*]` every element of an array
 *   data[0].id               `[N]` one element
 *   metadata.*               `.*` every member of an object
 *   ["odd key"].value        a member whose name is not a plain identifier
 *
 * A plain member name is letters, digits, `_` and `-`, not starting with a digit or `-`. No filters, no
 * recursive descent: a contract should name the fields it lets through, not search for them.
 */
export type PathSegment = { kind: 'key'; name: string } | { kind: 'index'; index: number } | { kind: 'any' };

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** Parse a path, or return a message saying what is wrong (for lint and config errors). */
export function parsePath(text: string): PathSegment[] | string {
  let s = text.trim();
  if (s === '') return 'an empty path';
  if (s === '$') return [];
  if (s.startsWith('$')) {
    s = s.slice(1);
    if (s !== '' && s[0] !== '.' && s[0] !== '[') return `"${text}": after $ comes . or [`;
  }
  const out: PathSegment[] = [];
  let first = true;
  while (s.length) {
    if (s[0] === '.' || first) {
      if (s[0] === '.') s = s.slice(1);
      else if (s[0] === '[') {
        first = false;
        continue;
      }
      if (s[0] === '*') {
        out.push({ kind: 'any' });
        s = s.slice(1);
      } else {
        const m = IDENT.exec(s);
        if (!m) return `"${text}": expected a member name at "${s.slice(0, 12)}"`;
        out.push({ kind: 'key', name: m[0] });
        s = s.slice(m[0].length);
      }
    } else if (s[0] === '[') {
      const close = bracketEnd(s);
      if (close < 0) return `"${text}": an unclosed [`;
      const inner = s.slice(1, close).trim();
      if (inner === '*') out.push({ kind: 'any' });
      else if (/^\d+$/.test(inner)) out.push({ kind: 'index', index: Number(inner) });
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) {
        try {
          out.push({ kind: 'key', name: JSON.parse(inner) as string });
        } catch {
          return `"${text}": a bad quoted name ${inner}`;
        }
      } else return `"${text}": [${inner}] is not [*], [N] or ["name"]`;
      s = s.slice(close + 1);
    } else {
      return `"${text}": expected . or [ at "${s.slice(0, 12)}"`;
    }
    first = false;
  }
  return out;
}

function bracketEnd(s: string): number {
  let inString = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ']') return i;
  }
  return -1;
}

/** Parse a path that was already validated (by the schema); a bad one here is a bug, not user input. */
export function mustParsePath(text: string): PathSegment[] {
  const p = parsePath(text);
  if (typeof p === 'string') throw new Error(`invalid output path ${p}`);
  return p;
}

/** The canonical spelling, so two spellings of one path compare equal (`$.a` and `a`). */
export function formatPath(segs: PathSegment[]): string {
  if (!segs.length) return '$';
  return segs
    .map((s, i) => {
      if (s.kind === 'index') return `[${s.index}]`;
      if (s.kind === 'any') return i === 0 ? '*' : '[*]';
      return IDENT.test(s.name) && IDENT.exec(s.name)![0] === s.name ? `${i === 0 ? '' : '.'}${s.name}` : `[${JSON.stringify(s.name)}]`;
    })
    .join('');
}
