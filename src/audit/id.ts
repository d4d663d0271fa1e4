import { randomBytes } from '../digest.js';

// Crockford base32 in lowercase: ASCII order matches digit order, and no i/l/o/u to misread.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * `ol_` + the millisecond clock in base36, padded to 9 digits (enough until the year 5188, so ids sort
 * by time as plain strings) + 10 random base32 characters (50 bits), which keeps ids minted in the same
 * millisecond by different processes apart.
 */
export function newAuditId(now: number = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  // 256 is a multiple of 32, so masking a byte keeps every character equally likely.
  const rand = Array.from(randomBytes(10), (byte) => ALPHABET[byte & 31]).join('');
  return `ol_${time}${rand}`;
}
