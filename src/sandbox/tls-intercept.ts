import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { constants } from 'node:crypto';
import { checkServerIdentity, createSecureContext, DEFAULT_CIPHERS, rootCertificates, TLSSocket, type SecureContext } from 'node:tls';
import type { LeafIssuer } from '../placeholder/ca.js';
import { SubstitutionTotals, type Counted, type Substituter } from '../placeholder/substitute.js';
import type { Redactor } from '../redact/index.js';
import { parseSigv4, payloadHash, resignedAuthorization, resignedPresignedTarget } from '../placeholder/sigv4.js';
import type { EgressRecord, ProxyHooks, ProxyTarget } from './proxy.js';
import { pipeRedacted, redactHeaderValues } from './redacted-pump.js';
import { HOP, misdirectedHost, relay, SMALL_REPLY } from './tls-relay.js';
import { misdirected, upstreamFailed, wrongHost, type Refusal } from './tls-refusals.js';
import { UpstreamPool } from './upstream-pool.js';

export { BATCH, pipeRedacted, redactHeaderValues } from './redacted-pump.js';

/**
 * The placeholder half of the egress proxy, loaded only for a placeholder run. For a CONNECT to one of a
 * placeholder secret's hosts it ends the child's TLS with a leaf from outloop's CA (ALPN http/1.1 only),
 * reads each HTTP request, swaps sentinels for values where substitute.ts allows, and sends the request on
 * over TLS verified against the system store (plus NODE_EXTRA_CA_CERTS given to outloop). Every plain
 * http:// request of the run passes here too, so a sentinel in clear text to any other host is refused.
 * Replies pass the run's redactor on the way back, headers and body, so an API that echoes the real
 * value shows the child only the mask.
 */
export interface InterceptOptions {
  substituter: Substituter;
  issuer: LeafIssuer;
  redactor: Redactor;
  /** Extra trust anchors for upstreams (PEM text), besides node's roots and the system bundle. */
  extraCa?: string[];
  /** The system's and NODE_EXTRA_CA_CERTS' certificates node lacks, when the caller has them already (beyondNodeRoots(fileAnchors())). */
  beyondRoots?: string[];
  /** false: every request takes node's http path (the byte relay is for hosts without body swap or SigV4). */
  relay?: boolean;
  /** false: the byte relay reads the child's bytes as 'data' events (borrowed-reads.ts says when it must). */
  borrowReads?: boolean;
}

/** Leaves made ahead of the first CONNECT (a service has one API host or a few; the rest are made when asked). */
const WARM_HOSTS = 4;
/** A body buffered for substitution may not exceed this. */
const MAX_BODY = 32 * 1024 * 1024;
/**
 * Node's cipher list with AES-128-GCM first. The proxy decrypts and encrypts every byte twice (once per
 * leg) and AES-128-GCM is the fastest TLS 1.3 suite with AES-NI (~15% over AES-256-GCM, node's first);
 * every TLS 1.3 peer must support it. The rest of the list stays, so no peer loses a suite it had.
 */
const CIPHERS = ['TLS_AES_128_GCM_SHA256', ...DEFAULT_CIPHERS.split(':').filter((c) => c !== 'TLS_AES_128_GCM_SHA256')].join(':');
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/** The trust store for upstreams and for the child's bundle: node's roots, the system bundle, outloop's NODE_EXTRA_CA_CERTS. */
export function trustAnchors(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...rootCertificates, ...fileAnchors(env)];
}

/** The part of trustAnchors read from files: the first readable system bundle, then NODE_EXTRA_CA_CERTS. */
export function fileAnchors(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  let system: string | undefined;
  for (const p of SYSTEM_BUNDLES) if ((system = readOrUndefined(p)) !== undefined) break;
  const extra = env.NODE_EXTRA_CA_CERTS ? readOrUndefined(env.NODE_EXTRA_CA_CERTS) : undefined;
  // Unreadable: the rest still verifies.
  for (const text of [system, extra]) out.push(...(text?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []));
  return out;
}

function readOrUndefined(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

export class Interceptor implements ProxyHooks {
  private readonly http: Server;
  private readonly targets = new WeakMap<object, ProxyTarget>();
  private readonly contexts = new Map<string, SecureContext>();
  private readonly tracked = new WeakSet<object>();
  private readonly totals = new SubstitutionTotals();
  private record: (r: EgressRecord) => EgressRecord = (r) => r;
  private track: (s: Duplex) => void = () => {};
  private agent: HttpsAgent | undefined;
  private closed = false;
  private trustCtx: SecureContext | undefined;
  private readonly pool: UpstreamPool;
  private readonly plainAgent = new HttpAgent({ keepAlive: true, noDelay: true });

  constructor(private readonly o: InterceptOptions) {
    this.http = createServer((req, res) => {
      const t = this.targets.get(req.socket);
      if (t) this.handle(req, res, t, req.url ?? '/');
      else res.writeHead(500).end();
    });
    this.http.on('upgrade', (_req: IncomingMessage, sock: Duplex) => sock.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    this.http.on('clientError', (_e, sock: Duplex) => sock.destroy());
    // noDelay: a request or reply in two small writes must not wait for a delayed ACK.
    this.pool = new UpstreamPool(() => this.trust(), (s) => this.track(s));
  }

  attach(record: (r: EgressRecord) => EgressRecord, track: (s: Duplex) => void): void {
    this.record = record;
    this.track = track;
    // The child takes ~100 ms to start (the sandbox, node, the preload); the TLS state the first CONNECT
    // needs is made in that time instead of between the child's ClientHello and the proxy's answer.
    // Each secure context is an SSL_CTX_new (~3 ms with OpenSSL 3), the leaf a key and a signature.
    setImmediate(() => this.warm()).unref();
  }

  /** The upstream trust and a leaf for the first few placeholder hosts named without a wildcard. */
  private warm(): void {
    if (this.closed) return;
    this.trust();
    for (const host of this.o.substituter.exactHosts().slice(0, WARM_HOSTS)) this.context(host);
  }

  wants(host: string, port: number): boolean {
    return this.o.substituter.intercepts(host, port);
  }

  substitutions(): { secret: string; host: string; surface: string; count: number }[] {
    return this.totals.list();
  }

  /**
   * One secure context for the run (building one from a few hundred roots per connection costs ~10 ms),
   * made while the child starts (warm), not before it.
   */
  private trust(): SecureContext {
    return (this.trustCtx ??= upstreamContext(this.o.beyondRoots ?? beyondNodeRoots(fileAnchors()), this.o.extraCa ?? []));
  }

  private get tlsAgent(): HttpsAgent {
    return (this.agent ??= new HttpsAgent({ keepAlive: true, noDelay: true, secureContext: this.trust() }));
  }

  close(): void {
    this.closed = true;
    this.pool.close();
    this.agent?.destroy();
    this.plainAgent.destroy();
  }

  mask(text: string): string {
    return this.o.substituter.mask(text);
  }

  private context(host: string): SecureContext {
    let c = this.contexts.get(host);
    if (!c) {
      const { certPem, keyPem } = this.o.issuer.leaf(host);
      // The proxy's order, not the child's: the child (node, curl) would pick AES-256-GCM.
      c = createSecureContext({ cert: certPem, key: keyPem, ciphers: CIPHERS, secureOptions: constants.SSL_OP_CIPHER_SERVER_PREFERENCE });
      this.contexts.set(host, c);
    }
    return c;
  }

  /** After `200 Connection Established`: terminate the child's TLS and serve its requests. */
  serveTls(client: Duplex, head: Buffer, t: ProxyTarget): void {
    if (head.length) client.unshift(head);
    (client as Socket).setNoDelay?.(true);
    const sock = new TLSSocket(client as Socket, { isServer: true, secureContext: this.context(t.host), ALPNProtocols: ['http/1.1'] });
    sock.on('error', () => client.destroy());
    this.track(sock);
    const target = { ...t, tls: true };
    if (this.relays(t)) {
      relay(sock, target, { sub: this.o.substituter, redactor: this.o.redactor, pool: this.pool, record: (r) => this.record(r), counted: (host, counts) => this.totals.add(host, counts), borrow: this.o.borrowReads });
      return;
    }
    this.targets.set(sock, target);
    this.http.emit('connection', sock);
  }

  /** A host whose requests need no body swap and no re-signing takes the byte relay (tls-relay.ts). */
  private relays(t: ProxyTarget): boolean {
    const sub = this.o.substituter;
    return this.o.relay !== false && !sub.bodySwap(t.host, t.port) && !sub.signingKey(t.host, t.port);
  }

  private refuse(res: ServerResponse, r: Refusal): void {
    if (res.headersSent) res.destroy();
    else res.writeHead(r.status, r.headers).end(r.body);
  }

  /** One request: swap, refuse or pass on; the reply comes back through the redactor. */
  handle(req: IncomingMessage, res: ServerResponse, t: ProxyTarget, pathAndQuery: string): void {
    const sub = this.o.substituter;
    const rec = t.rec;
    if (t.tls) rec.intercepted = true;
    const counts: Counted[] = [];
    const h = sub.headers(req.rawHeaders, t.host, t.port);
    if (!h.ok) return this.refuse(res, wrongHost(this.record, t, h.secret, h.surface));
    counts.push(...h.counts);
    const path = sub.target(pathAndQuery, t.host, t.port);
    if (!path.ok) return this.refuse(res, wrongHost(this.record, t, path.secret, path.surface));
    counts.push(...path.counts);
    const host = req.headers.host;
    if (t.tls && counts.length && host && misdirectedHost(host, t)) return this.refuse(res, misdirected(this.record, t, host));

    // SigV4: the child signed with placeholder keys; once the access key id is the real one, sign again.
    const signer = sub.signingKey(t.host, t.port);
    const authAt = h.value.findIndex((x, i) => i % 2 === 0 && x.toLowerCase() === 'authorization');
    const sig = signer && authAt >= 0 ? parseSigv4(h.value[authAt + 1]!) : undefined;
    const resign = sig && sig.accessKeyId === signer!.accessKeyId ? sig : undefined;
    const signed = new Set(resign?.signedHeaders ?? []);
    // A presigned URL (query-string SigV4) by the placeholder key: the signature moves into the target.
    const presigned = signer && !resign && signer.accessKeyId !== undefined
      ? resignedPresignedTarget({ method: req.method ?? 'GET', pathAndQuery: path.value, rawHeaders: h.value }, { ...signer, accessKeyId: signer.accessKeyId })
      : undefined;
    if (presigned !== undefined) {
      path.value = presigned;
      counts.push({ secret: signer!.name, surface: 'sigv4', count: 1 });
    }

    const headers: OutgoingHttpHeaders = {};
    for (let i = 0; i < h.value.length; i += 2) {
      const k = h.value[i]!.toLowerCase();
      if (HOP.has(k)) continue;
      const v = h.value[i + 1]!;
      const prev = headers[k];
      headers[k] = prev === undefined ? v : `${String(prev)}${k === 'cookie' ? '; ' : ', '}${v}`;
    }
    // The reply must be readable by the redactor: no compression on the way back (unless the child signed the header).
    if (!signed.has('accept-encoding')) headers['accept-encoding'] = 'identity';
    const chunked = /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
    const hasBody = chunked || Number(req.headers['content-length'] ?? 0) > 0;
    const buffer = hasBody && (sub.bodySwap(t.host, t.port) || (resign !== undefined && payloadHash(h.value, undefined) === undefined));
    if (buffer) delete headers['content-length'];

    const send = (body: Buffer | undefined) => {
      if (resign) {
        const hash = payloadHash(h.value, body ?? Buffer.alloc(0))!;
        headers.authorization = resignedAuthorization(resign, { method: req.method ?? 'GET', pathAndQuery: path.value, rawHeaders: h.value, payloadHash: hash }, signer!.secretKey);
        counts.push({ secret: signer!.name, surface: 'sigv4', count: 1 });
      }
      const opts = { host: t.ip, port: t.port, method: req.method, path: path.value, headers, setHost: false };
      const up = t.tls
        ? httpsRequest({ ...opts, agent: this.tlsAgent, ...(isIP(t.host) ? {} : { servername: t.host }), checkServerIdentity: (_n: string, cert) => checkServerIdentity(t.host, cert) })
        : httpRequest({ ...opts, agent: this.plainAgent });
      // A keep-alive socket comes back for every request: track it once, not once per request.
      up.on('socket', (s) => {
        if (this.tracked.has(s)) return;
        this.tracked.add(s);
        this.track(s);
      });
      up.on('error', (err: NodeJS.ErrnoException) => this.refuse(res, upstreamFailed(t, rec, err)));
      up.on('response', (ur) => {
        this.totals.add(t.host, counts);
        const noBody = req.method === 'HEAD' || ur.statusCode === 204 || ur.statusCode === 304;
        const raw: string[] = [];
        for (let i = 0; i < ur.rawHeaders.length; i += 2) {
          const k = ur.rawHeaders[i]!.toLowerCase();
          if (!HOP.has(k) && !(k === 'content-length' && !noBody)) raw.push(ur.rawHeaders[i]!, ur.rawHeaders[i + 1]!);
        }
        redactHeaderValues(this.o.redactor, raw);
        ur.on('data', (d: Buffer) => (rec.bytesIn += d.length));
        const length = Number(ur.headers['content-length'] ?? NaN);
        if (!noBody && length <= SMALL_REPLY) {
          // A small reply is redacted whole and written at once, with its length: one write, so no
          // small-segment stall (Nagle against delayed ACK) on the way back, and keep-alive framing as sent.
          const parts: Buffer[] = [];
          ur.on('data', (d: Buffer) => parts.push(d));
          ur.on('end', () => {
            const out = this.o.redactor.redactBuffer(Buffer.concat(parts)).output;
            res.writeHead(ur.statusCode ?? 502, ur.statusMessage, [...raw, 'Content-Length', String(out.length)]).end(out);
          });
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.statusMessage, raw);
        pipeRedacted(ur, res, this.o.redactor.stream());
      });
      rec.bytesOut += Buffer.byteLength(`${req.method} ${path.value} HTTP/1.1\r\n`) + h.value.reduce((n, x) => n + Buffer.byteLength(x) + 2, 2);
      if (body) {
        rec.bytesOut += body.length;
        up.end(body);
        return;
      }
      const scan = sub.scanner(t.host, t.port);
      req.on('data', (d: Buffer) => {
        rec.bytesOut += d.length;
        const hit = scan(d);
        if (hit) {
          up.destroy();
          req.unpipe(up);
          this.refuse(res, wrongHost(this.record, t, hit, 'body'));
        }
      });
      req.pipe(up);
    };

    if (!buffer) return send(undefined);
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_BODY) parts.push(d);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`outloop: a request body for ${t.host} larger than ${MAX_BODY} bytes cannot pass the placeholder swap.\n`);
        return;
      }
      const b = sub.body(Buffer.concat(parts), req.headers['content-type'], t.host, t.port);
      if (!b.ok) return this.refuse(res, wrongHost(this.record, t, b.secret, b.surface));
      counts.push(...b.counts);
      headers['content-length'] = String(b.value.length);
      send(b.value);
    });
  }
}

/**
 * Upstream trust: node's built-in roots (already parsed, shared by every default context) plus only those
 * certificates of the system bundle and NODE_EXTRA_CA_CERTS that node does not have. Passing all ~300 as
 * `ca` re-parses each one and cost ~100 ms at the start of every placeholder run.
 */
function upstreamContext(beyondRoots: readonly string[], extraCa: readonly string[]): SecureContext {
  const extra = [...beyondRoots, ...beyondNodeRoots(extraCa)];
  const ctx = createSecureContext({ ciphers: CIPHERS });
  const native = (ctx as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert !== 'function') return createSecureContext({ ca: [...trustAnchors(), ...extraCa], ciphers: CIPHERS });
  for (const c of extra) native.addCACert(c);
  return ctx;
}

/** The certificates node does not already trust by itself (its built-in roots), in the order given. */
export function beyondNodeRoots(pems: readonly string[]): string[] {
  const body = (pem: string) => pem.replace(/-----[^-]+-----|\s+/g, '');
  const known = new Set(rootCertificates.map(body));
  return pems.filter((c) => !known.has(body(c)));
}
