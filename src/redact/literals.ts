import { foldWraps } from './noise.js';
import { base64Forms, base64OfBase64Forms, caseForms, hexForms, jsonForms, lineJoinForms, MIN_FORM_BYTES, normalizedForms, percentForms, shellForms, utf16Forms, xmlForms } from './forms.js';

/** A secret the child may print back to us. `name` is its logical name (STRIPE_KEY), used as the label. */
export interface SecretValue {
  name: string;
  value: string;
}

/** One byte pattern to redact, and the label its replacement shows: `[REDACTED:<label>]`. */
export interface Literal {
  label: string;
  bytes: Buffer;
}

/** How a secret becomes byte patterns; the encoded-forms issue swaps in a richer one. */
export type LiteralsFn = (secret: SecretValue) => Literal[];

/**
 * The whole value, plus each line of a multiline value, because children print keys (PEM, JSON key files)
 * one line at a time and a line in clear is as bad as the whole in clear. Lines shorter than
 * MIN_LINE_BYTES (after trimming) are not masked on their own: `{`, `}` or an empty line of a JSON key
 * file would otherwise mask every brace in the output and hide nothing; the whole value still is.
 */
export const MIN_LINE_BYTES = 8;

/** The value and its lines only: the literal set before derived forms (kept for callers that want it). */
export function plainLiteralsFor(secret: SecretValue): Literal[] {
  const out = new LiteralSet(secret.name);
  out.add(secret.value);
  for (const line of linesOf(secret.value)) out.add(line);
  return out.list;
}

/**
 * Every form a child is known to print a value in (see forms.ts): the value, each line and the lines
 * re-joined with \n, \r\n or spaces, base64 (std and URL-safe, three alignments, padded or not), hex,
 * percent/form/userinfo encoding, JSON (also every character as \uXXXX), XML/HTML and shell quoting,
 * the value in other case and Unicode normalization, UTF-16, base64 of base64. Derived forms shorter than
 * MIN_FORM_BYTES are dropped (too likely by chance); the value itself is always kept, however short.
 */
export function literalsFor(secret: SecretValue): Literal[] {
  const out = new LiteralSet(secret.name);
  const { value } = secret;
  out.add(value);
  const lines = linesOf(value);
  for (const line of lines) out.add(line);
  if (value === '') return out.list;
  const whole = value.includes('\n') ? lineJoinForms(value.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))) : [];
  for (const form of whole) out.add(form, MIN_FORM_BYTES);
  for (const form of [value, ...whole]) out.add(foldWraps(form), MIN_FORM_BYTES);
  for (const text of [value, ...whole.slice(0, 1)]) {
    const bytes = Buffer.from(text, 'utf8');
    for (const form of [
      ...base64Forms(bytes),
      ...hexForms(bytes),
      ...percentForms(text),
      ...jsonForms(text),
      ...xmlForms(text),
      ...shellForms(text),
    ]) {
      out.add(form, MIN_FORM_BYTES);
    }
  }
  // The whole value in another case or Unicode normalization (and those as JSON/URL text), in UTF-16,
  // and base64 of its base64 (see forms.ts for where each is seen).
  for (const other of [...caseForms(value), ...normalizedForms(value)]) {
    for (const form of [other, ...jsonForms(other).slice(2, 3), ...percentForms(other).slice(0, 1)]) out.add(form, MIN_FORM_BYTES);
  }
  const bytes = Buffer.from(value, 'utf8');
  for (const form of utf16Forms(value)) out.addBytes(form, MIN_FORM_BYTES);
  for (const form of base64OfBase64Forms(bytes)) out.add(form, MIN_FORM_BYTES);
  // A line printed alone is printed encoded too (a PEM line in JSON, a base64'd line of a key file).
  for (const line of lines) {
    for (const form of [...jsonForms(line), ...base64Forms(Buffer.from(line, 'utf8')).slice(0, 2)]) out.add(form, MIN_FORM_BYTES);
  }
  return out.list;
}

function linesOf(value: string): string[] {
  if (!value.includes('\n')) return [];
  return value
    .split('\n')
    .map((raw) => (raw.endsWith('\r') ? raw.slice(0, -1) : raw))
    .filter((line) => Buffer.byteLength(line.trim()) >= MIN_LINE_BYTES);
}

class LiteralSet {
  readonly list: Literal[] = [];
  readonly #seen = new Set<string>();
  constructor(readonly label: string) {}
  add(text: string, minBytes = 1): void {
    this.addBytes(Buffer.from(text, 'utf8'), minBytes);
  }
  /** Raw bytes (UTF-16 forms are not UTF-8 text). */
  addBytes(bytes: Buffer, minBytes = 1): void {
    const key = bytes.toString('latin1');
    if (bytes.length === 0 || this.#seen.has(key)) return;
    if (bytes.length < minBytes) return;
    this.#seen.add(key);
    this.list.push({ label: this.label, bytes });
  }
}

/**
 * Literals of all secrets, byte-identical patterns kept once (the first secret's label wins), so two
 * names for the same value cost one scan and always show the same label.
 */
export function collectLiterals(secrets: readonly SecretValue[], derive: LiteralsFn = literalsFor): Literal[] {
  const seen = new Set<string>();
  const out: Literal[] = [];
  for (const secret of secrets) {
    for (const lit of derive(secret)) {
      if (lit.bytes.length === 0) continue;
      const key = lit.bytes.toString('latin1');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(lit);
    }
  }
  return out;
}
