import { matchEntry, normalHost, parseEntry } from '../sandbox/egress-rules.js';
import type { Surface } from '../recipe/schema.js';

/**
 * The placeholder swap, pure: given a request's parts and the host it goes to, put each secret's real
 * value where its sentinel is, but only on a request to one of that secret's service hosts, and only on
 * the surfaces its recipe file lists (header and basic unless it says otherwise). A sentinel bound for
 * any other host is never replaced: the caller refuses the request (placeholder_wrong_host).
 */
export interface PlaceholderSecret {
  name: string;
  service: string;
  sentinel: string;
  value: string;
  /** The service's `hosts` entries. */
  hosts: readonly string[];
  surfaces: ReadonlySet<Surface>;
  /** The service's recipe file says `sign: aws-sigv4`. */
  sign?: 'aws-sigv4';
}

export interface Counted {
  secret: string;
  /** A substitution surface, or `sigv4` for a request re-signed with the real key. */
  surface: Surface | 'sigv4';
  count: number;
}

/** What re-signing needs for one host: the real pair, and the placeholders a presigned URL carries. */
export interface SigningKey {
  secretKey: string;
  accessKeyId: string | undefined;
  name: string;
  placeholderKeyId: string;
  sessionToken?: { placeholder: string; value: string };
}

export type Swap<T> = { ok: true; value: T; counts: Counted[] } | { ok: false; secret: PlaceholderSecret; surface: Surface };

const AUTH_HEADER = /^(authorization|proxy-authorization)$/i;

/** The parts of a URL where a surface means "the request target" (path and query alike). */
const TARGET: Surface = 'query';

export class Substituter {
  private readonly bySentinel: Map<string, PlaceholderSecret>;
  /** Longest sentinel: a streaming scan keeps this many bytes minus one between chunks. */
  readonly maxLen: number;
  private readonly owners = new Map<string, PlaceholderSecret[]>();

  constructor(readonly secrets: readonly PlaceholderSecret[]) {
    this.bySentinel = new Map(secrets.map((s) => [s.sentinel, s]));
    this.maxLen = Math.max(0, ...secrets.map((s) => s.sentinel.length));
  }

  /** Secrets whose value may go to host:port. */
  ownedBy(host: string, port: number): PlaceholderSecret[] {
    const key = `${host}\0${port}`;
    let own = this.owners.get(key);
    if (!own) {
      // Asked for every request of a connection: the hosts entries do not change during the run.
      own = this.secrets.filter((s) => matchEntry(host, String(port), s.hosts) !== undefined);
      if (this.owners.size < 256) this.owners.set(key, own);
    }
    return own;
  }

  /** The hosts the secrets' entries name without a wildcard, normalised as the proxy's targets are. */
  exactHosts(): string[] {
    const out = new Set<string>();
    for (const s of this.secrets) for (const raw of s.hosts) {
      const e = parseEntry(raw);
      if (!e.host.includes('*')) out.add(normalHost(e.host));
    }
    return [...out];
  }

  /** Does the proxy need to see inside this connection (TLS termination)? */
  intercepts(host: string, port: number): boolean {
    return this.ownedBy(host, port).length > 0;
  }

  /** The real SigV4 secret key for host:port, when its service re-signs. */
  signingKey(host: string, port: number): SigningKey | undefined {
    const own = this.ownedBy(host, port).filter((s) => s.sign === 'aws-sigv4');
    const key = own.find((s) => s.name === 'AWS_SECRET_ACCESS_KEY');
    if (!key) return undefined;
    const id = own.find((s) => s.name === 'AWS_ACCESS_KEY_ID');
    const token = own.find((s) => s.name === 'AWS_SESSION_TOKEN');
    return {
      secretKey: key.value, accessKeyId: id?.value, name: key.name, placeholderKeyId: id?.sentinel ?? '',
      ...(token ? { sessionToken: { placeholder: token.sentinel, value: token.value } } : {}),
    };
  }

  /** Does a body to host:port need buffering for substitution? */
  bodySwap(host: string, port: number): boolean {
    return this.ownedBy(host, port).some((s) => s.surfaces.has('body'));
  }

  private anySentinel(text: string): boolean {
    for (const s of this.secrets) if (text.includes(s.sentinel)) return true;
    return false;
  }

  /** Replace in one piece of text; `encode` gives the value as that surface writes it. */
  private swapText(text: string, host: string, port: number, surface: Surface, encode: (v: string) => string, counts: Map<string, Counted>): Swap<string> {
    let out = text;
    for (const s of this.secrets) {
      if (!out.includes(s.sentinel)) continue;
      if (!this.ownedBy(host, port).includes(s)) return { ok: false, secret: s, surface };
      if (!s.surfaces.has(surface)) continue;
      const parts = out.split(s.sentinel);
      const key = `${s.name}\0${surface}`;
      const c = counts.get(key) ?? { secret: s.name, surface, count: 0 };
      c.count += parts.length - 1;
      counts.set(key, c);
      out = parts.join(encode(s.value));
    }
    return { ok: true, value: out, counts: [] };
  }

  /** Headers as node's rawHeaders ([name, value, ...]); Authorization: Basic is decoded, swapped, re-encoded. */
  headers(raw: readonly string[], host: string, port: number): Swap<string[]> {
    const counts = new Map<string, Counted>();
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      let value = raw[i + 1]!;
      const basic = AUTH_HEADER.test(name) ? /^(Basic\s+)([A-Za-z0-9+/=_-]+)\s*$/i.exec(value) : null;
      // Most headers hold no sentinel and are not Basic credentials: kept as they are.
      if (!basic && !this.anySentinel(value)) {
        out.push(name, value);
        continue;
      }
      if (basic) {
        const decoded = Buffer.from(basic[2]!, 'base64').toString('utf8');
        const r = this.swapText(decoded, host, port, 'basic', (v) => v, counts);
        if (!r.ok) return r;
        if (r.value !== decoded) value = basic[1]! + Buffer.from(r.value, 'utf8').toString('base64');
      }
      const r = this.swapText(value, host, port, 'header', (v) => v, counts);
      if (!r.ok) return r;
      out.push(name, r.value);
    }
    return { ok: true, value: out, counts: [...counts.values()] };
  }

  /** The request target (path and query): the `query` surface. */
  target(pathAndQuery: string, host: string, port: number): Swap<string> {
    if (!this.anySentinel(pathAndQuery)) return { ok: true, value: pathAndQuery, counts: [] };
    const counts = new Map<string, Counted>();
    const r = this.swapText(pathAndQuery, host, port, TARGET, encodeURIComponent, counts);
    return r.ok ? { ok: true, value: r.value, counts: [...counts.values()] } : r;
  }

  /** A whole body (buffered because a secret of this host may be swapped in it). */
  body(buf: Buffer, contentType: string | undefined, host: string, port: number): Swap<Buffer> {
    const counts = new Map<string, Counted>();
    const ct = (contentType ?? '').toLowerCase();
    const encode = ct.includes('json') ? (v: string) => JSON.stringify(v).slice(1, -1) : ct.includes('x-www-form-urlencoded') ? encodeURIComponent : (v: string) => v;
    const text = buf.toString('latin1');
    // latin1 keeps every byte; values are written back as UTF-8 bytes.
    const r = this.swapText(text, host, port, 'body', (v) => Buffer.from(encode(v), 'utf8').toString('latin1'), counts);
    return r.ok ? { ok: true, value: r.value === text ? buf : Buffer.from(r.value, 'latin1'), counts: [...counts.values()] } : r;
  }

  /** A scanner for a streamed body: the first sentinel of another host's secret, across chunk seams. */
  scanner(host: string, port: number): (chunk: Buffer) => PlaceholderSecret | undefined {
    const own = this.ownedBy(host, port);
    const foreign = this.secrets.filter((s) => !own.includes(s));
    let tail = '';
    return (chunk) => {
      if (!foreign.length) return undefined;
      const text = tail + chunk.toString('latin1');
      const hit = foreign.find((s) => text.includes(s.sentinel));
      tail = text.slice(Math.max(0, text.length - (this.maxLen - 1)));
      return hit;
    };
  }

  /** Mask every sentinel in text written to the audit log. */
  mask(text: string): string {
    let out = text;
    for (const [sentinel, s] of this.bySentinel) out = out.split(sentinel).join(`[PLACEHOLDER:${s.name}]`);
    return out;
  }
}

/** Add counts of one request into the run's totals (host, surface, secret). */
/** `a` and `b` together, one entry per secret and surface (neither is changed). */
export function mergeCounts(a: readonly Counted[], b: readonly Counted[]): Counted[] {
  const out = a.map((c) => ({ ...c }));
  for (const c of b) {
    const same = out.find((o) => o.secret === c.secret && o.surface === c.surface);
    if (same) same.count += c.count;
    else out.push({ ...c });
  }
  return out;
}

/** One secret's substitutions towards one host on one surface, for the end record. */
export interface SubstitutionTotal {
  secret: string;
  host: string;
  surface: string;
  count: number;
}

/**
 * The substitutions of a run, added up per secret, host and surface. Added to at every request, so it
 * is looked up by the strings the caller already holds (host, then secret, then surface): nothing is
 * built per request.
 */
export class SubstitutionTotals {
  readonly #byHost = new Map<string, Map<string, Map<string, SubstitutionTotal>>>();
  /** In the order each was first counted. */
  readonly #all: SubstitutionTotal[] = [];

  add(host: string, counts: readonly Counted[]): void {
    if (counts.length === 0) return;
    let bySecret = this.#byHost.get(host);
    if (bySecret === undefined) this.#byHost.set(host, (bySecret = new Map()));
    for (const c of counts) {
      let bySurface = bySecret.get(c.secret);
      if (bySurface === undefined) bySecret.set(c.secret, (bySurface = new Map()));
      let t = bySurface.get(c.surface);
      if (t === undefined) {
        t = { secret: c.secret, host, surface: c.surface, count: 0 };
        bySurface.set(c.surface, t);
        this.#all.push(t);
      }
      t.count += c.count;
    }
  }

  list(): SubstitutionTotal[] {
    return this.#all.map((t) => ({ ...t }));
  }
}
