/**
 * asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/), the asciinema format, so existing
 * players (`asciinema play`, asciinema-player) can play outloop's recordings:
 *
 *   {"version": 2, "width": 80, "height": 24, "timestamp": 1504467315, "title": "...", "env": {...}}
 *   [0.248848, "o", "text"]
 *
 * Pure: encoding and strict parsing only. Files are written by writer.ts.
 */
export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  timestamp?: number;
  duration?: number;
  idle_time_limit?: number;
  title?: string;
  env?: Record<string, string>;
}

export type CastEvent = [time: number, type: string, data: string];

export function encodeHeader(h: CastHeader): string {
  return `${JSON.stringify(h)}\n`;
}

export function encodeEvent(time: number, type: 'o' | 'm', data: string): string {
  // Microseconds, as asciinema writes them; a fixed number of decimals keeps lines short and sortable.
  return `${JSON.stringify([Math.round(time * 1e6) / 1e6, type, data])}\n`;
}

export class CastFormatError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

/** Parse and check every line: a header, then events with non-decreasing times. */
export function parseCast(text: string): { header: CastHeader; events: CastEvent[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (!lines.length) throw new CastFormatError(1, 'empty file');
  let header: CastHeader;
  try {
    header = JSON.parse(lines[0]!) as CastHeader;
  } catch {
    throw new CastFormatError(1, 'the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new CastFormatError(1, 'the header is not an object');
  if (header.version !== 2) throw new CastFormatError(1, 'version is not 2');
  if (!Number.isInteger(header.width) || !Number.isInteger(header.height) || header.width <= 0 || header.height <= 0) {
    throw new CastFormatError(1, 'width and height must be positive integers');
  }
  const events: CastEvent[] = [];
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    let e: unknown;
    try {
      e = JSON.parse(lines[i]!);
    } catch {
      throw new CastFormatError(i + 1, 'an event is not JSON');
    }
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'number' || typeof e[1] !== 'string' || typeof e[2] !== 'string') {
      throw new CastFormatError(i + 1, 'an event is not [time, type, data]');
    }
    if (!Number.isFinite(e[0]) || e[0] < last) throw new CastFormatError(i + 1, 'event times must not go backwards');
    last = e[0];
    events.push(e as CastEvent);
  }
  return { header, events };
}

/**
 * What a terminal's line discipline (onlcr) would have delivered: LF becomes CRLF. Output from a pipe
 * has bare LFs, which a terminal emulator (asciinema-player) renders as a staircase. `carry` says whether
 * the previous chunk of the same stream ended in CR.
 */
export function toTerminalNewlines(text: string, carry: boolean): { text: string; endsInCr: boolean } {
  let out = '';
  let prevCr = carry;
  for (const ch of text) {
    if (ch === '\n' && !prevCr) out += '\r';
    out += ch;
    prevCr = ch === '\r';
  }
  return { text: out, endsInCr: prevCr };
}
