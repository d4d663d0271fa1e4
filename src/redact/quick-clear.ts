import type { Literal } from './literals.js';
import { WRAP_MIN_COLUMNS } from './noise.js';
import { endRuleMinimum } from './regions.js';

/** A string whose UTF-8 bytes may not be their own noise view or one per character: LF, CR, ESC, non-ASCII. */
const NOT_PLAIN = /[^\0-\x09\x0b\x0c\x0e-\x1a\x1c-\x7f]/;
/** A buffer's latin1 text with what makes the full scan's view differ (ESC) or masks a prefix before it (CR). */
const NOT_VIEW = /[\r\x1b]/;
/** Longer buffers take the full scan: the test reads a buffer as a string, a copy. */
export const QUICK_MAX = 4096;

/**
 * An exact test that a small buffer gives the value stage nothing to do: no literal in it and no held
 * prefix that the end rule masks. Bytes that no literal contains (for most values: space, NUL, quotes,
 * braces, `:`, `,`) cut a buffer into runs. Every occurrence of a literal lies inside one run at least as
 * long as the shortest literal, and every masked prefix at the end is the end of a run at least
 * endRuleMinimum(shortest) long, so a buffer with neither is unchanged. A buffer with a CR (a prefix is
 * also masked before a bare one) takes the full scan. One native regex test instead of the matcher, the
 * prefix index (which reads each of a buffer's last maxLength - 1 positions: the whole of a short one) and
 * the region bookkeeping: a reply's header values or a small JSON body cost close to nothing. Only for
 * the built-in matchers, which find exactly the literals' bytes.
 */
export interface QuickClear {
  /**
   * The buffer is its own noise view (no ESC; no wrap break, which needs a line of WRAP_MIN_COLUMNS
   * before a LF) and the value stage leaves it unchanged: one string made and searched, no native
   * search per byte looked for.
   */
  buffer(buf: Buffer): boolean;
  /**
   * The same for a string's UTF-8 bytes without making them, for an ASCII string without LF, CR or ESC
   * (one byte per character, its own noise view); any other string is not cleared.
   */
  string(s: string): boolean;
}

export function quickClear(literals: readonly Literal[]): QuickClear | undefined {
  const seen = new Uint8Array(128);
  let shortest = Infinity;
  for (const l of literals) {
    if (l.bytes.length === 0) continue;
    shortest = Math.min(shortest, l.bytes.length);
    const bytes = l.bytes;
    for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 128) seen[bytes[i]!] = 1;
  }
  let cuts = '';
  for (let b = 0; b < 128; b++) if (seen[b] === 0 && b !== 0x0d) cuts += `\\x${b.toString(16).padStart(2, '0')}`;
  if (shortest === Infinity || cuts === '') return undefined;
  // Bytes from 0x80 up are never cuts: a run of them may be a UTF-8 value's.
  const held = new RegExp(`[^${cuts}]{${shortest}}|[^${cuts}]{${endRuleMinimum(shortest)}}$`);
  return {
    buffer: (buf) => {
      if (buf.length > QUICK_MAX) return false;
      const text = buf.toString('latin1');
      return !NOT_VIEW.test(text) && (text.length <= WRAP_MIN_COLUMNS || !text.includes('\n')) && !held.test(text);
    },
    string: (str) => str.length <= QUICK_MAX && !NOT_PLAIN.test(str) && !held.test(str),
  };
}
