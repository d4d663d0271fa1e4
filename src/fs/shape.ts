/**
 * Shape checks for outloop's own JSON state (budget counts, approvals). Small and exact rather than zod:
 * these files are read on the hot path of every exec whose grant has a budget or an approval, and
 * importing zod costs ~100 ms there. A check returns the first problem as "where: what", or undefined.
 */
export type Check = (v: unknown, at: string) => string | undefined;

const show = (at: string) => at || '(top level)';
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const str: Check = (v, at) => (typeof v === 'string' ? undefined : `${show(at)}: expected a string, got ${kind(v)}`);
export const num: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${show(at)}: expected a number, got ${kind(v)}`);
export const bool: Check = (v, at) => (typeof v === 'boolean' ? undefined : `${show(at)}: expected true or false, got ${kind(v)}`);

export const oneOf = (...values: string[]): Check => (v, at) =>
  typeof v === 'string' && values.includes(v) ? undefined : `${show(at)}: expected one of ${values.join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v) : kind(v)}`;

export const listOf = (item: Check): Check => (v, at) => {
  if (!Array.isArray(v)) return `${show(at)}: expected a list, got ${kind(v)}`;
  for (const [i, x] of v.entries()) {
    const p = item(x, `${at}[${i}]`);
    if (p) return p;
  }
  return undefined;
};

export const recordOf = (item: Check): Check => (v, at) => {
  if (!isObject(v)) return `${show(at)}: expected an object, got ${kind(v)}`;
  for (const [k, x] of Object.entries(v)) {
    const p = item(x, `${at}${at ? '.' : ''}${k}`);
    if (p) return p;
  }
  return undefined;
};

/** An object with these fields (a `?` after the name: optional); other fields are not allowed. */
export const object = (fields: Record<string, Check>): Check => (v, at) => {
  if (!isObject(v)) return `${show(at)}: expected an object, got ${kind(v)}`;
  const known = new Map(Object.entries(fields).map(([k, c]) => [k.replace(/\?$/, ''), { c, optional: k.endsWith('?') }]));
  for (const k of Object.keys(v)) if (!known.has(k)) return `${show(at)}: unexpected field "${k}"`;
  for (const [k, { c, optional }] of known) {
    if (!Object.hasOwn(v, k) || v[k] === undefined) {
      if (optional) continue;
      return `${show(at)}: missing field "${k}"`;
    }
    const p = c(v[k], `${at}${at ? '.' : ''}${k}`);
    if (p) return p;
  }
  return undefined;
};
