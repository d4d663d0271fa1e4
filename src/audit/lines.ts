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
  /** Byte offset just past the line (and its newline). */
  end: number;
}

/** Every line of the file in order, reading a chunk at a time so a long log is never held in memory whole. */
export function* readLines(path: string, from = 0): Generator<Line> {
  const fd = openSync(path, 'r');
  try {
    yield* readLinesFd(fd, from);
  } finally {
    closeSync(fd);
  }
}

/** Lines from byte `from` (a line start) to the end of the file; numbers count from 1 at `from`. */
export function* readLinesFd(fd: number, from = 0, firstNumber = 1): Generator<Line> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pending: Buffer | undefined;
  let number = firstNumber - 1;
  let offset = from;
  for (let pos = from; ; ) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n === 0) break;
    pos += n;
    let start = 0;
    for (let at = buf.indexOf(NL, 0); at !== -1 && at < n; at = buf.indexOf(NL, start)) {
      // Decoding straight from the chunk: no copy unless the line began in an earlier chunk.
      const text = pending ? Buffer.concat([pending, buf.subarray(start, at)]).toString('utf8') : buf.toString('utf8', start, at);
      offset += (pending?.length ?? 0) + at - start + 1;
      pending = undefined;
      yield { number: ++number, text, terminated: true, end: offset };
      start = at + 1;
    }
    // Copy: buf is reused by the next read.
    if (start < n) pending = pending ? Buffer.concat([pending, buf.subarray(start, n)]) : Buffer.from(buf.subarray(start, n));
  }
  if (pending) yield { number: ++number, text: pending.toString('utf8'), terminated: false, end: offset + pending.length };
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
export function countNewlines(fd: number, end: number, from = 0): number {
  let count = 0;
  for (let pos = from; pos < end; pos += CHUNK) {
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

/**
 * Lines from the end of the file backwards, reading 64 KiB windows: what `audit -n` needs costs the same
 * however long the log is. `start` is the byte offset of each line.
 */
export function* readLinesBackward(fd: number, size: number): Generator<{ start: number; text: string; terminated: boolean }> {
  let end = size;
  let terminated = size > 0 && readAt(fd, size - 1, 1)[0] === NL;
  if (terminated) end = size - 1;
  let carry: Buffer | undefined;
  let pos = end;
  while (pos > 0 || carry) {
    const from = Math.max(0, pos - CHUNK);
    const chunk = readAt(fd, from, pos - from);
    const buf: Buffer = carry ? Buffer.concat([chunk, carry]) : chunk;
    let stop = buf.length;
    for (let at = buf.lastIndexOf(NL, stop - 1); at !== -1; at = stop > 0 ? buf.lastIndexOf(NL, stop - 1) : -1) {
      yield { start: from + at + 1, text: buf.toString('utf8', at + 1, stop), terminated };
      terminated = true;
      stop = at;
    }
    carry = stop > 0 ? Buffer.from(buf.subarray(0, stop)) : undefined;
    pos = from;
    if (from === 0) {
      if (carry) yield { start: 0, text: carry.toString('utf8'), terminated };
      break;
    }
  }
}
