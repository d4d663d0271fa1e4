import { collectLiterals, type SecretValue } from '../../src/redact/index.js';

const B64 = /^[A-Za-z0-9+/_-]$/;

/**
 * The view of noise.ts restated naively for inputs without ESC: a `\r?\n` after a line of 60 or more
 * base64 characters (and nothing else) is skipped. Returns the view and, per view byte, its input index.
 */
function view(input: Buffer): { bytes: number[]; at: number[] } {
  const bytes: number[] = [];
  const at: number[] = [];
  let lineStart = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    const isBreak = c === 0x0a || (c === 0x0d && input[i + 1] === 0x0a);
    if (isBreak) {
      const lineEnd = c === 0x0d ? i : i > lineStart && input[i - 1] === 0x0d && input[i - 1] !== undefined ? i - 1 : i;
      const line = input.subarray(lineStart, lineEnd).toString('latin1');
      const wrap = line.length >= 60 && [...line].every((ch) => B64.test(ch));
      if (c === 0x0a) lineStart = i + 1;
      if (wrap) continue;
    }
    bytes.push(c);
    at.push(i);
  }
  return { bytes, at };
}

/**
 * A deliberately naive restatement of the redaction rules (byte-by-byte comparison at every position),
 * written apart from the real engine so the two can disagree. Inputs must not contain ESC.
 */
export function oracle(input: Buffer, secrets: SecretValue[]): { output: Buffer; count: number } {
  const lits = collectLiterals(secrets);
  const v = view(input);
  const n = v.bytes.length;
  type C = { s: number; e: number; i: number; partial: boolean };
  const cands: C[] = [];
  // Where the partial rule applies: the end, and before each \r not followed by \n (or last).
  const partialEnds = new Set<number>([n]);
  for (let k = 0; k < n; k++) if (v.bytes[k] === 0x0d && v.bytes[k + 1] !== 0x0a) partialEnds.add(k);
  for (let s = 0; s < n; s++) {
    lits.forEach((lit, i) => {
      const len = lit.bytes.length;
      let k = 0;
      while (k < len && s + k < n && v.bytes[s + k] === lit.bytes[k]) k++;
      if (k === len) cands.push({ s, e: s + len, i, partial: false });
      for (let j = 1; j < len && j <= k; j++) {
        if (partialEnds.has(s + j) && j >= Math.min(8, Math.ceil(len / 2))) cands.push({ s, e: s + j, i, partial: true });
      }
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
    parts.push(input.subarray(at, v.at[first.s]), Buffer.from(labels.map((l) => `[REDACTED:${l}]`).join('')));
    at = v.at[end - 1]! + 1;
  }
  parts.push(input.subarray(at));
  return { output: Buffer.concat(parts), count };
}
