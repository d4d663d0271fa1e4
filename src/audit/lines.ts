import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Byte-level reading of audit.jsonl. Lines are split on the 0x0A byte, which never occurs inside a UTF-8
 * multi-byte sequence, so chunks can be cut anywhere and only whole lines are decoded.
 */

const CHUNK = 64 * 1024;
const NL = 0x0a;

export interface Line {
  /** 1-based. */
  number: number;
  text: string;
  /** False for a last line with no newline after it: a write that was cut short. */
  terminated: boolean;
}

/** Every line of the file in order, reading a chunk at a time so a long log is never held in memory whole. */
export function* readLines(path: string): Generator<Line> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let pending: Buffer[] = [];
    let number = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      let from = 0;
      for (let at = buf.indexOf(NL, 0); at !== -1 && at < n; at = buf.indexOf(NL, from)) {
        pending.push(buf.subarray(from, at));
        yield { number: ++number, text: Buffer.concat(pending).toString('utf8'), terminated: true };
        pending = [];
        from = at + 1;
      }
      // Copy: buf is reused by the next read.
      if (from < n) pending.push(Buffer.from(buf.subarray(from, n)));
    }
    if (pending.length > 0) yield { number: ++number, text: Buffer.concat(pending).toString('utf8'), terminated: false };
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes of the file at `position` (fewer only at end of file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Newlines in the first `end` bytes: the 1-based number of the line starting at `end` is this plus one. */
export function countNewlines(fd: number, end: number): number {
  let count = 0;
  for (let pos = 0; pos < end; pos += CHUNK) {
    const chunk = readAt(fd, pos, Math.min(CHUNK, end - pos));
    for (let at = chunk.indexOf(NL); at !== -1; at = chunk.indexOf(NL, at + 1)) count++;
  }
  return count;
}

/**
 * The last line of a file of `size` bytes, reading backwards from the end: 64 KiB first, doubling while
 * no earlier newline is found. `terminated` is false when the file does not end with a newline.
 */
export function readLastLine(fd: number, size: number): { start: number; text: string; terminated: boolean } {
  const terminated = readAt(fd, size - 1, 1)[0] === NL;
  const end = terminated ? size - 1 : size;
  let window = CHUNK;
  for (;;) {
    const from = Math.max(0, end - window);
    const chunk = readAt(fd, from, end - from);
    const at = chunk.lastIndexOf(NL);
    if (at !== -1 || from === 0) {
      return { start: from + at + 1, text: chunk.subarray(at + 1).toString('utf8'), terminated };
    }
    window *= 2;
  }
}
