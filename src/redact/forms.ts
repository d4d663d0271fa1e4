/**
 * The derived forms of one secret value: every way a child commonly re-encodes a value before printing
 * it (Basic auth, docker config, URLs, JSON, XML, shell traces). Each form is a plain byte string the
 * matcher looks for; forms that equal the value, or each other, are dropped by the caller.
 *
 * Base64 is the subtle one: a value inside a larger payload (`user:SECRET`, a JSON blob) is encoded at
 * one of three byte alignments, and only the characters that depend on the value's bytes alone are
 * stable. For alignment a (a unknown bytes before the value), the first stable character is at 0, 2 or 3
 * (the chars of the leading group that mix in unknown bits are dropped), and when more bytes follow the
 * value the last character of a partial group mixes in unknown bits too, so it is dropped; a value that
 * ends the payload also gets its padded and unpadded end forms, so the last bits are masked when present.
 */

/** Derived forms shorter than this are dropped: a 5-character base64 fragment is noise, not a secret. */
export const MIN_FORM_BYTES = 6;

const LEADING_UNSTABLE = [0, 2, 3] as const;

/** Stable base64 substrings of `bytes` at the three alignments, std and URL-safe, padded and not. */
export function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const a of [0, 1, 2] as const) {
    const padded = Buffer.concat([Buffer.alloc(a), bytes]).toString('base64');
    const lead = LEADING_UNSTABLE[a];
    const total = a + bytes.length;
    const bare = padded.replace(/=+$/, '');
    // Followed by more bytes: a partial last group's final char mixes in the next byte's bits.
    const followed = total % 3 === 0 ? bare : bare.slice(0, -1);
    for (const s of [followed, bare, padded]) {
      const stable = s.slice(lead);
      out.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

export function hexForms(bytes: Buffer): string[] {
  const lower = bytes.toString('hex');
  return [lower, lower.toUpperCase()];
}

const lowerEscapes = (s: string): string => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** encodeURIComponent, RFC 3986 strict (also !'()*), form encoding (+ for space), URL userinfo; each also in lower-case hex. */
export function percentForms(value: string): string[] {
  let component: string;
  try {
    component = encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be percent-encoded; nothing prints it that way either.
    return [];
  }
  const strict = component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const form = component.replace(/%20/g, '+');
  const userinfo = userinfoEncoding(value);
  const upper = [component, strict, form, ...formEncodings(component), ...(userinfo === undefined ? [] : [userinfo])];
  return [...upper, ...upper.map(lowerEscapes)];
}

/**
 * application/x-www-form-urlencoded as the common encoders write it, `+` for space and upper-case %XX:
 * WHATWG URLSearchParams and HTML forms (keep * - . _), Python's quote_plus (keeps - . _ ~), PHP's
 * urlencode (keeps - . _), and each of them with %20 for space (curl --data-urlencode, rawurlencode).
 */
function formEncodings(component: string): string[] {
  const escape = (keep: string) => (c: string) => (keep.includes(c) ? c : `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const out: string[] = [];
  for (const keep of ['*', '~', '']) {
    const spaced = component.replace(/[!'()*~]/g, escape(keep));
    out.push(spaced.replace(/%20/g, '+'), spaced);
  }
  return out;
}

/** The password (and username) part of a URL as WHATWG URL serialises it: https://user:VALUE@host. */
function userinfoEncoding(value: string): string | undefined {
  try {
    const u = new URL('http://h/');
    u.password = value;
    return u.password;
  } catch {
    return undefined;
  }
}

const hex4 = (code: number): string => code.toString(16).padStart(4, '0');

/** JSON string escaping as JSON.stringify, PHP (\/), Python ensure_ascii (\uXXXX) and Go (<>& escaped) write it. */
export function jsonForms(value: string): string[] {
  const plain = JSON.stringify(value).slice(1, -1);
  const slash = plain.replace(/\//g, '\\/');
  const ascii = plain.replace(/[\u0080-\uffff]/g, (c) => `\\u${hex4(c.charCodeAt(0))}`);
  const go = ascii.replace(/[<>&]/g, (c) => `\\u${hex4(c.charCodeAt(0))}`);
  const php = ascii.replace(/\//g, '\\/');
  // Every character as \uXXXX (an encoder that escapes all, or a hand-made obfuscation).
  const every = [...value].map((c) => (c.length === 2 ? c.split('').map((u) => `\\u${hex4(u.charCodeAt(0))}`).join('') : `\\u${hex4(c.charCodeAt(0))}`)).join('');
  const out = [plain, slash, ascii, go, php, every];
  return [...out, ...out.map((s) => s.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u${h.toUpperCase()}`))];
}

/** XML/HTML escaping, with each of the common spellings of the quote characters. */
export function xmlForms(value: string): string[] {
  if (!/[&<>"']/.test(value)) return [];
  const base = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [base];
  for (const dq of ['"', '&quot;', '&#34;', '&#x22;']) {
    for (const sq of ["'", '&#39;', '&apos;', '&#x27;']) out.push(base.replace(/"/g, dq).replace(/'/g, sq));
  }
  return out;
}

/** Characters bash's printf %q (sh_backslash_quote) puts a backslash before. */
const PRINTF_Q = /[ \t|&;()<>!{}*[\]?^$`'"\\,]/g;

/**
 * Shell quoting as traces print it: `set -x` wraps a value in '...' and writes a quote inside as '\'';
 * printf %q backslash-escapes metacharacters (and a leading # or ~), or uses $'...' ANSI-C quoting when
 * the value holds control characters; a double-quoted word escapes "$`\.
 */
export function shellForms(value: string): string[] {
  const out = [value.replace(/'/g, `'\\''`), value.replace(/["$`\\]/g, (c) => `\\${c}`)];
  // printf %q switches to $'...' when a control character is present.
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    out.push(
      value.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => {
        const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\E', '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
        return named[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
      }),
    );
  } else {
    out.push(value.replace(PRINTF_Q, (c) => `\\${c}`).replace(/^[#~]/, (c) => `\\${c}`).replace(/([:=])~/g, '$1\\~'));
  }
  // In the C locale printf %q writes every byte outside ASCII as octal inside $'...'.
  if (/[^\u0000-\u007f]/.test(value)) out.push(cLocaleQuote(value));
  return out;
}

const NAMED: Record<number, string> = { 0x5c: '\\\\', 0x27: "\\'", 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x1b: '\\E', 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0b: '\\v' };

/** The body of bash's $'...' for `value` in the C locale: octal for bytes outside printable ASCII. */
function cLocaleQuote(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    const named = NAMED[b];
    if (named !== undefined) out += named;
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/** The value in other letter case (a tool that upper-cases an id, a case-insensitive echo). */
export function caseForms(value: string): string[] {
  return [value.toUpperCase(), value.toLowerCase()].filter((v) => v !== value);
}

/** Other Unicode normalizations: macOS file names and some libraries give NFD, form inputs NFC/NFKC. */
export function normalizedForms(value: string): string[] {
  if (!/[^\u0000-\u007f]/.test(value)) return [];
  return (['NFC', 'NFD', 'NFKC', 'NFKD'] as const).map((f) => value.normalize(f)).filter((v) => v !== value);
}

/** UTF-16 in both byte orders (Windows tools, PowerShell, .NET and Java dumps), and PowerShell's -EncodedCommand base64. */
export function utf16Forms(value: string): Buffer[] {
  const le = Buffer.from(value, 'utf16le');
  const be = Buffer.from(le).swap16();
  return [le, be, Buffer.from(le.toString('base64'))];
}

/**
 * base64 of base64: the value's base64 encoded again (`base64 | base64`, a Kubernetes Secret holding a
 * base64'd value or a docker config whose auth is base64 of user:VALUE), standard alphabet.
 */
export function base64OfBase64Forms(bytes: Buffer): string[] {
  const all = base64Forms(bytes);
  const out: string[] = [];
  // The inner text: the value's stable base64 at each alignment (at 0 also the start of its padded
  // whole, so `base64 | base64` is covered); the outer: that text's stable base64 at each alignment.
  for (let a = 0; a < 3; a++) {
    const f = base64Forms(Buffer.from(all[a * 6]!));
    out.push(f[0]!, f[6]!, f[12]!);
  }
  return out;
}

/** A multiline value with its line breaks as a PTY (\r\n), a plain pipe (\n) or a joined log (space) print them. */
export function lineJoinForms(lines: readonly string[]): string[] {
  return [lines.join('\n'), lines.join('\r\n'), lines.join(' ')];
}
