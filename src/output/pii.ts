/**
 * Personal data found by kind anywhere in a string: emails, phone numbers, card numbers and IBANs.
 *
 * Each finder is conservative on purpose: masking an order id, a timestamp or a UUID would break the
 * agent's work, so a candidate must pass a real check, not just look the part:
 *
 * - card: 13-19 digits (optionally in groups split by one kind of separator, space or dash), a known
 *   issuer prefix (Visa 4, Mastercard 51-55/2221-2720, Amex 34/37, Discover/UnionPay 6, JCB 35,
 *   Diners 30/36/38) AND a valid Luhn checksum. A 13-digit millisecond timestamp starts with 1 and fails.
 * - iban: upper-case country code of a known IBAN country, the exact length for that country, AND the
 *   ISO 13616 mod-97 check (remainder 1). Spaces in groups of four are allowed.
 * - phone: only with a leading `+` country code (8-15 digits in all), or the North American
 *   `(555) 123-4567` / `555-123-4567` / `555.123.4567` shapes. A bare run of digits is never a phone
 *   number: that is what ids and timestamps look like.
 * - email: local@domain.tld with a letters-only top-level domain of 2+ characters.
 *
 * None of them matches inside a longer word (`ord_4242424242424242`, `id-4155550123` stay as they are).
 */
export const PII_KINDS = ['email', 'phone', 'card', 'iban'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiHit {
  start: number;
  end: number;
  kind: PiiKind;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;
const CARD = /(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w]|[.-]\d)/g;
const IBAN = /(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![\w])/g;
const PHONE_INTL = /(?<![\w+])\+[1-9](?:[ .-]?\(?\d{1,4}\)?){2,7}(?![\w]|[.-]\d)/g;
// One separator kind throughout (\1), so a date-like 123-456.7890 mix is not taken for a number.
const PHONE_NANP = /(?<![\w(.+-])(?:\(\d{3}\) ?\d{3}[.-]\d{4}|\d{3}([.-])\d{3}\1\d{4})(?![\w]|[.-]\d)/g;

/** Digits pass the Luhn checksum (the last digit checks the rest). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function cardIssuer(d: string): boolean {
  const two = Number(d.slice(0, 2));
  const four = Number(d.slice(0, 4));
  if (d[0] === '4') return d.length === 13 || d.length === 16 || d.length === 19;
  if (two >= 51 && two <= 55) return d.length === 16;
  if (four >= 2221 && four <= 2720) return d.length === 16;
  if (two === 34 || two === 37) return d.length === 15;
  if (two === 35) return d.length >= 16;
  if (two === 30 || two === 36 || two === 38) return d.length >= 14;
  if (d[0] === '6') return d.length >= 16;
  return false;
}

function isCard(text: string): boolean {
  const seps = new Set(text.replace(/\d/g, ''));
  if (seps.size > 1) return false;
  const d = text.replace(/[ -]/g, '');
  return d.length >= 13 && d.length <= 19 && cardIssuer(d) && luhnValid(d);
}

// ISO 13616 registry lengths; a code missing here is not an IBAN country.
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18,
  GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24,
  PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 13616: move the first four characters to the end, letters to 10..35, the number mod 97 is 1. */
export function ibanValid(candidate: string): boolean {
  const s = candidate.replace(/ /g, '');
  if (IBAN_LENGTH[s.slice(0, 2)] !== s.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

function digitCount(s: string): number {
  return s.replace(/\D/g, '').length;
}

/** Every piece of personal data of the given kinds in `text`, sorted and non-overlapping. */
export function findPii(text: string, kinds: ReadonlySet<PiiKind>): PiiHit[] {
  const hits: PiiHit[] = [];
  const scan = (re: RegExp, kind: PiiKind, ok: (m: string) => boolean) => {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) if (ok(m[0])) hits.push({ start: m.index, end: m.index + m[0].length, kind });
  };
  if (kinds.has('email')) scan(EMAIL, 'email', () => true);
  if (kinds.has('iban')) scan(IBAN, 'iban', ibanValid);
  if (kinds.has('card')) scan(CARD, 'card', isCard);
  if (kinds.has('phone')) {
    scan(PHONE_INTL, 'phone', (m) => digitCount(m) >= 8 && digitCount(m) <= 15);
    scan(PHONE_NANP, 'phone', () => true);
  }
  // Earliest first, longest at a tie; drop any hit overlapping one already kept.
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiHit[] = [];
  for (const h of hits) if (!out.length || h.start >= out[out.length - 1]!.end) out.push(h);
  return out;
}
