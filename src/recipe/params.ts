import { didYouMean } from '../util/suggest.js';
import type { ParamSpec } from './schema.js';

/**
 * Typed parameter validation, pure. Every value arrives as a string (`-p k=v`, MCP arguments are
 * stringified first) and leaves as the canonical text the templates splice in.
 */
export interface ParamFailure {
  param: string;
  message: string;
}

export type ParamResult = { ok: true; values: Record<string, string> } | { ok: false; failure: ParamFailure };

// Control characters (C0 with tab, DEL, C1) would let a value start a new line in a stdin config (curl -K)
// or a header; Unicode line and paragraph separators end a line for many readers (JSON in JavaScript,
// logs); format characters (bidi overrides like U+202E, zero-width spaces, U+FEFF) make a value read
// differently from what it is, in a terminal, an approval prompt or the audit log. ZWJ and ZWNJ
// (U+200D, U+200C) stay allowed: emoji sequences and several scripts need them, and they reorder nothing.
const REFUSED = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/u;
const ALLOWED_FORMAT = new Set(['\u200c', '\u200d']);

/** The first refused character of a value, as U+XXXX and its kind, or undefined. */
export function refusedCharacter(raw: string): string | undefined {
  const re = new RegExp(REFUSED.source, 'gu');
  for (const m of raw.matchAll(re)) {
    const ch = m[0];
    if (ALLOWED_FORMAT.has(ch)) continue;
    const cp = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const kind = /\p{Cc}/u.test(ch) ? 'a control character' : /[\p{Zl}\p{Zp}]/u.test(ch) ? 'a line separator' : 'an invisible format character';
    return `${cp}, ${kind}`;
  }
  return undefined;
}

export function validateParams(specs: Record<string, ParamSpec>, given: Record<string, string>): ParamResult {
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(specs, name)) {
      const known = Object.keys(specs);
      return fail(name, `unknown parameter "${name}"${didYouMean(name, known)} (${known.length ? `this recipe takes: ${known.join(', ')}` : 'this recipe takes no parameters'})`);
    }
  }
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = Object.hasOwn(given, name) ? given[name] : spec.default === undefined ? undefined : String(spec.default);
    if (raw === undefined) {
      if (isRequired(spec)) return fail(name, `missing required parameter "${name}"${spec.description ? ` (${spec.description})` : ''}: pass -p ${name}=VALUE`);
      continue;
    }
    const checked = checkValue(name, spec, raw);
    if (typeof checked !== 'string') return { ok: false, failure: checked };
    values[name] = checked;
  }
  return { ok: true, values };
}

export function isRequired(spec: ParamSpec): boolean {
  return spec.required ?? spec.default === undefined;
}

/** Validate one value; returns its canonical text or the failure. Also used by lint on defaults. */
export function checkValue(name: string, spec: ParamSpec, raw: string): string | ParamFailure {
  const show = JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}...` : raw);
  const refused = refusedCharacter(raw);
  if (refused) return { param: name, message: `parameter "${name}" contains ${refused}, which is never allowed in a parameter` };
  switch (spec.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(raw)) return { param: name, message: `parameter "${name}" must be an integer${range(spec)}, got ${show}` };
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) return { param: name, message: `parameter "${name}" is too large, got ${show}` };
      return inRange(name, spec, n) ?? String(n);
    }
    case 'number': {
      // One way to match each digit (no `\d+\.?\d*`, which backtracks quadratically: 50k digits took 37 s).
      if (!/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/.test(raw)) return { param: name, message: `parameter "${name}" must be a number${range(spec)}, got ${show}` };
      const n = Number(raw);
      if (!Number.isFinite(n)) return { param: name, message: `parameter "${name}" must be a finite number, got ${show}` };
      return inRange(name, spec, n) ?? String(n);
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') return { param: name, message: `parameter "${name}" must be true or false, got ${show}` };
      return raw;
    case 'enum':
    case 'string': {
      if (spec.enum && !spec.enum.map(String).includes(raw)) {
        return { param: name, message: `parameter "${name}" must be one of ${spec.enum.map((e) => JSON.stringify(String(e))).join(', ')}, got ${show}` };
      }
      if (spec.minLength !== undefined && raw.length < spec.minLength) return { param: name, message: `parameter "${name}" must be at least ${spec.minLength} characters, got ${raw.length}` };
      if (spec.maxLength !== undefined && raw.length > spec.maxLength) return { param: name, message: `parameter "${name}" must be at most ${spec.maxLength} characters, got ${raw.length}` };
      if (spec.pattern !== undefined && !anchored(spec.pattern).test(raw)) {
        return { param: name, message: `parameter "${name}" must match /${spec.pattern}/, got ${show}` };
      }
      return raw;
    }
  }
}

/** Patterns must match the whole value: "[0-9]+" must not accept "12; rm -rf". */
export function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

function range(spec: ParamSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

function inRange(name: string, spec: ParamSpec, n: number): ParamFailure | undefined {
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    return { param: name, message: `parameter "${name}" must be${range(spec)}, got ${n}` };
  }
  return undefined;
}

function fail(param: string, message: string): ParamResult {
  return { ok: false, failure: { param, message } };
}
