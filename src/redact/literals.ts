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

export function literalsFor(secret: SecretValue): Literal[] {
  const seen = new Set<string>();
  const out: Literal[] = [];
  const add = (text: string): void => {
    if (text === '' || seen.has(text)) return;
    seen.add(text);
    out.push({ label: secret.name, bytes: Buffer.from(text, 'utf8') });
  };
  add(secret.value);
  if (secret.value.includes('\n')) {
    for (const raw of secret.value.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (Buffer.byteLength(line.trim()) >= MIN_LINE_BYTES) add(line);
    }
  }
  return out;
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
