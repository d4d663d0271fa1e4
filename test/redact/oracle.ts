import { collectLiterals, type SecretValue } from '../../src/redact/index.js';

/**
 * A deliberately naive restatement of the redaction rules (byte-by-byte comparison at every position),
 * written apart from the real engine so the two can disagree.
 */
export function oracle(input: Buffer, secrets: SecretValue[]): { output: Buffer; count: number } {
  const lits = collectLiterals(secrets);
  const n = input.length;
  type C = { s: number; e: number; i: number; partial: boolean };
  const cands: C[] = [];
  for (let s = 0; s < n; s++) {
    lits.forEach((lit, i) => {
      const len = lit.bytes.length;
      let k = 0;
      while (k < len && s + k < n && input[s + k] === lit.bytes[k]) k++;
      if (k === len) cands.push({ s, e: s + len, i, partial: false });
      else if (s + k === n && k > 0 && k >= Math.min(8, Math.ceil(len / 2))) cands.push({ s, e: n, i, partial: true });
    });
  }
  cands.sort((a, b) => a.s - b.s || b.e - a.e || Number(a.partial) - Number(b.partial) || a.i - b.i);
  let at = 0;
  let count = 0;
  const parts: Buffer[] = [];
  let k = 0;
  while (k < cands.length) {
    const first = cands[k]!;
    let end = first.e;
    const labels = [lits[first.i]!.label];
    count++;
    k++;
    while (k < cands.length && cands[k]!.s < end) {
      const c = cands[k]!;
      if (c.e > end) {
        end = c.e;
        count++;
        const label = lits[c.i]!.label;
        if (!labels.includes(label)) labels.push(label);
      }
      k++;
    }
    parts.push(input.subarray(at, first.s), Buffer.from(labels.map((l) => `[REDACTED:${l}]`).join('')));
    at = end;
  }
  parts.push(input.subarray(at));
  return { output: Buffer.concat(parts), count };
}
