/**
 * The host gate: every URL in what a recipe will run (argv, env, stdin, files) must name a host the
 * service's `hosts` allows. Pure string work; the sandbox's egress proxy enforces the same list on the
 * wire later. Two parsers are consulted because the WHATWG URL parser and curl disagree on odd input
 * (`https://api.example.com\@evil.example` is api.example.com to one and evil.example to the other): the
 * request passes only if every reading of the authority is allowed.
 */
export interface HostViolation {
  url: string;
  host: string;
  why: string;
}

// A URL runs to the next whitespace: stopping at a quote would let `api.example.com"@evil.example` be
// checked as api.example.com while curl goes to evil.example. Quoting that closes a URL in a config
// (`url = "https://..."`) is trimmed off the end instead.
//
// Besides `scheme://`, the forms a browser (the WHATWG parser) also reads as a URL with a host: a web
// scheme with one slash or with backslashes (`http:/x`, `http:\\x` are http://x/), and a scheme-relative
// `//host/x` (or `\\host`) standing as its own token, which a client resolves against an https base.
// Other schemes with one slash are left alone: `/usr/bin:/bin` is a PATH, not a URL.
// A backslash form (`\\host`) counts only when its host has a dot or a port, or is localhost: a JSON or C
// escape of free text (`it \\o/` for `it \o/`) is not a URL to a host named "o".
const URL_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S*|\b(?:https?|wss?):[/\\]+\S*|(?<![^\s"'`=(<[{,;])\/\/[^/\\\s]\S*|(?<![^\s"'`=(<[{,;])(?:\\\\|\/\\|\\\/)(?=(?:[^/\\\s?#]*[.:]|localhost\b))[^/\\\s]\S*/gi;
const CLOSING = /["'`<>)\]},;]+$/;
const WEB_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);
// Characters no sane authority holds and that URL parsers disagree about.
const ODD_IN_AUTHORITY = /["'`<>{}|^\\%\s]/;

export function findUrls(text: string): string[] {
  // Every form above holds a `:`, a backslash or `//`: text with none of them (most argv words) skips
  // the regex, whose first use alone (V8 compiles it then) costs a no-op exec about 0.4 ms.
  if (!text.includes(':') && !text.includes('\\') && !text.includes('//')) return [];
  return [...text.matchAll(URL_IN_TEXT)].map((m) => m[0].replace(CLOSING, ''));
}

export function checkUrl(raw: string, allowed: readonly string[]): HostViolation | undefined {
  let url: URL;
  // Scheme-relative: the host is whatever follows the slashes, as a browser would take it on an https page.
  const schemeRelative = /^[/\\]{2}/.test(raw);
  try {
    url = schemeRelative ? new URL(`https:${raw}`) : new URL(raw);
  } catch {
    return { url: raw, host: '?', why: 'is not a valid URL' };
  }
  if (!WEB_SCHEMES.has(url.protocol)) return { url: raw, host: url.host, why: `uses scheme ${url.protocol.slice(0, -1)}, only http(s) and ws(s) are allowed` };
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
  const readings = new Set([url.hostname.toLowerCase()]);
  // The authority as a lenient client (curl) would read it: everything up to the first / ? or #.
  // The scheme and every slash or backslash after it go, as the WHATWG parser drops them for web schemes.
  const authority = raw.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:/, '').replace(/^[/\\]+/, '').split(/[/?#]/, 1)[0]!;
  if (ODD_IN_AUTHORITY.test(authority)) {
    return { url: raw, host: url.hostname, why: 'has characters in its host part (quotes, backslash, %, spaces) that clients read differently' };
  }
  if (authority.includes('@')) readings.add(stripPort(authority.slice(authority.lastIndexOf('@') + 1)).toLowerCase());
  for (const host of readings) {
    if (!hostAllowed(host, port, allowed)) return { url: raw, host, why: `reaches ${host}, which is not in the service's hosts` };
  }
  return undefined;
}

export function hostAllowed(host: string, port: string, allowed: readonly string[]): boolean {
  const h = host.replace(/\.$/, '');
  return allowed.some((entry) => {
    const [pattern, wantPort] = splitEntry(entry);
    if (wantPort !== undefined && wantPort !== port) return false;
    if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1);
      return h.endsWith(suffix) && h.length > suffix.length;
    }
    return h === pattern;
  });
}

function splitEntry(entry: string): [string, string | undefined] {
  const e = entry.toLowerCase();
  if (e.startsWith('[')) {
    const close = e.indexOf(']');
    const port = e.slice(close + 1).replace(/^:/, '');
    return [e.slice(0, close + 1), port || undefined];
  }
  const i = e.lastIndexOf(':');
  return i === -1 ? [e, undefined] : [e.slice(0, i), e.slice(i + 1)];
}

function stripPort(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const i = authority.lastIndexOf(':');
  return i === -1 ? authority : authority.slice(0, i);
}
