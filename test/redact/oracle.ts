import { collectLiterals, type SecretValue } from '../../src/redact/index.js';

const B64 = /^[A-Za-z0-9+/_-]$/;

/**
 * The view of noise.ts restated naively for inputs without ESC: a `\r?\n` after a line of 60 to 4096
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
      const wrap = line.length >= 60 && line.length <= 4096 && [...line].every((ch) => B64.test(ch));
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
  const values = valuesOracle(input, secrets, true, true);
  const rewrites = rewriteOracle(values.output, secrets);
  return { output: rewrites.output, count: values.count + rewrites.count };
}

/** What a terminal shows for one line: \r to column 0, \b one left, a UTF-8 character per cell. */
function naiveRender(line: Buffer): Buffer {
  const chars = [...line.toString('utf8')];
  const cells: string[] = [];
  let col = 0;
  for (const c of chars) {
    if (c === '\r') col = 0;
    else if (c === '\b') col = Math.max(0, col - 1);
    else cells[col++] = c;
  }
  return Buffer.from(Array.from(cells, (c) => c ?? ' ').join(''), 'utf8');
}

/**
 * The rewrite rule (rewrites.ts) restated: a line holding a \b or a bare \r (the last one of the text
 * counts) is cut at the first; when its rendering holds a whole literal, the rest becomes \r, the
 * rendering with the literals masked (no partial rule, no view), and ESC [ K.
 */
function rewriteOracle(text: Buffer, secrets: SecretValue[]): { output: Buffer; count: number } {
  const parts: Buffer[] = [];
  let count = 0;
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf(0x0a, at);
    if (nl === -1) nl = text.length;
    const line = text.subarray(at, nl);
    let cut = -1;
    for (let i = 0; i < line.length && cut === -1; i++) {
      if (line[i] === 0x08 || (line[i] === 0x0d && !(at + i + 1 < text.length && text[at + i + 1] === 0x0a))) cut = i;
    }
    const held = cut === -1 ? Buffer.alloc(0) : line.subarray(cut);
    const shown = cut === -1 || (held.length === 1 && held[0] === 0x0d) ? undefined : valuesOracle(naiveRender(line), secrets, false, false);
    if (shown !== undefined && shown.count > 0) {
      parts.push(line.subarray(0, cut), Buffer.from('\r'), shown.output, Buffer.from('\x1b[K'));
      count += shown.count;
    } else parts.push(line);
    if (nl < text.length) parts.push(text.subarray(nl, nl + 1));
    at = nl + 1;
  }
  return { output: Buffer.concat(parts), count };
}

function valuesOracle(input: Buffer, secrets: SecretValue[], partials: boolean, useView: boolean): { output: Buffer; count: number } {
  const lits = collectLiterals(secrets);
  const v = useView ? view(input) : { bytes: [...input], at: [...input].map((_, i) => i) };
  const n = v.bytes.length;
  type C = { s: number; e: number; i: number; partial: boolean };
  const cands: C[] = [];
  // Where the partial rule applies: the end, and before each \r not followed by \n (or last).
  const partialEnds = new Set<number>(partials ? [n] : []);
  for (let k = 0; k < n && partials; k++) if (v.bytes[k] === 0x0d && v.bytes[k + 1] !== 0x0a) partialEnds.add(k);
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
