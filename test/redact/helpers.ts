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
