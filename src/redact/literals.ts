import { foldWraps } from './noise.js';
import { base64Forms, hexForms, jsonForms, lineJoinForms, MIN_FORM_BYTES, percentForms, shellForms, xmlForms } from './forms.js';

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
 * percent/form/userinfo encoding, JSON, XML/HTML and shell quoting. Derived forms shorter than
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
    if (text === '' || this.#seen.has(text)) return;
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length < minBytes) return;
    this.#seen.add(text);
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
