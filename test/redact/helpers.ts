import type { Redactor } from '../../src/redact/index.js';

/** Feed `chunks` through a fresh stream; the concatenated output and the final count. */
export function runStream(redactor: Redactor, chunks: readonly (string | Uint8Array)[]): { output: Buffer; count: number } {
  const s = redactor.stream();
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(s.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
  parts.push(s.end());
  return { output: Buffer.concat(parts), count: s.count };
}

/** Every byte on its own push. */
export function bytewise(text: string | Buffer): Buffer[] {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return [...buf].map((b) => Buffer.from([b]));
}

/** Split at random cut points (from fast-check), so pieces may split anywhere, mid-character included. */
export function chunk(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(buf.subarray(at, p));
    at = p;
  }
  out.push(buf.subarray(at));
  return out;
}
