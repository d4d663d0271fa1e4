import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';
import { addressRefusal, matchEntry, normalHost, type HostEntry } from './egress-rules.js';

/**
 * The egress proxy: the only way out of the sandbox. It speaks HTTP proxy (CONNECT host:port for TLS and
 * anything else, absolute-form requests for plain http), lets through only what the service's `hosts`
 * allow, resolves names itself and connects to the very address it checked (one resolution, so a DNS
 * answer that changes between check and use cannot move the connection), and keeps one record per
 * connection for the audit log. A refusal is a 403 whose body names the host and the recipe, because the
 * reader is usually an agent that has to explain to a person what to change.
 */
export interface EgressRecord {
  host: string;
  port: number;
  ip: string | null;
  decision: 'allow' | 'deny';
  bytesIn: number;
  bytesOut: number;
  reason?: string;
  /** Why it did not get through, for the note shown to the agent (sandbox/egress-notes.ts). */
  refusal?: EgressRefusal;
  /** A placeholder run's proxy ended TLS here to put values in (tls-intercept.ts). */
  intercepted?: true;
}

/** Where one allowed connection goes (the address the proxy checked). */
export interface ProxyTarget {
  host: string;
  port: number;
  ip: string;
  rec: EgressRecord;
  tls?: boolean;
}

/**
 * The placeholder proxy's hooks (src/sandbox/tls-intercept.ts), present only in a placeholder run: it
 * takes over CONNECTs to the placeholder hosts and every plain http:// request.
 */
export interface ProxyHooks {
  attach(record: (r: EgressRecord) => EgressRecord, track: (s: Duplex) => void): void;
  wants(host: string, port: number): boolean;
  serveTls(client: Duplex, head: Buffer, t: ProxyTarget): void;
  handle(req: IncomingMessage, res: ServerResponse, t: ProxyTarget, pathAndQuery: string): void;
  substitutions(): { secret: string; host: string; surface: string; count: number }[];
  mask(text: string): string;
  close(): void;
}

export type EgressRefusal = 'not_allowed' | 'does_not_resolve' | 'private_address' | 'upstream_failed' | 'not_proxy_request' | 'run_over';

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface EgressProxyOptions {
  /** The service's hosts entries. */
  hosts: readonly string[];
  /** `service.recipe`, named in refusals. */
  label: string;
  /** Name resolution; tests inject one. Never configurable from outside the library. */
  lookup?: Lookup;
  /** Keep at most this many records (a child looping on connect must not grow the audit line unbounded). */
  maxRecords?: number;
  /** Placeholder runs: TLS termination and substitution (tls-intercept.ts). */
  hooks?: ProxyHooks;
  /**
   * An unsandboxed placeholder run: the child has the whole network anyway, so a destination outside
   * `hosts` is passed through (recorded) instead of refused; only the placeholder hosts are looked into.
   */
  open?: boolean;
}

export type ListenTarget = { path: string } | { host: '127.0.0.1'; port: number };

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

export class EgressProxy {
  private readonly server: Server;
  private readonly log: EgressRecord[] = [];
  private dropped = 0;
  private readonly open = new Set<Duplex>();
  private readonly lookup: Lookup;
  private closed = false;

  constructor(private readonly opts: EgressProxyOptions) {
    this.lookup = opts.lookup ?? defaultLookup;
    opts.hooks?.attach((r) => this.record(r), (s) => this.track(s));
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connect', (req: IncomingMessage, sock: Duplex, head: Buffer) => void this.onConnect(req, sock, head));
    this.server.on('connection', (s: Socket) => this.track(s));
    // Not HTTP at all (a raw TCP client aimed at the proxy port): refused, on record.
    this.server.on('clientError', (_err, sock: Duplex) => {
      if (sock.writable) {
        this.record({ host: '?', port: 0, ip: null, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: 'not an HTTP proxy request', refusal: 'not_proxy_request' });
        sock.end(plain(400, 'outloop: only HTTP proxy requests (CONNECT host:port, or http:// URLs) leave the sandbox.\n'));
      } else sock.destroy();
    });
    this.server.on('upgrade', (_req: IncomingMessage, sock: Duplex) => sock.end(plain(501, 'outloop: use CONNECT (wss://, https://) through this proxy.\n')));
  }

  async listen(target: ListenTarget): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(target, () => resolve());
    });
    const a = this.server.address();
    return typeof a === 'string' ? a : `http://127.0.0.1:${a!.port}`;
  }

  /** Connections so far (copies), plus how many were not kept. */
  records(): { egress: EgressRecord[]; egressDropped?: number; substitutions?: ReturnType<ProxyHooks['substitutions']> } {
    const subs = this.opts.hooks?.substitutions();
    const mask = (t: string) => this.opts.hooks?.mask(t) ?? t;
    return {
      egress: this.log.map((r) => ({ ...r, host: mask(r.host), ...(r.reason === undefined ? {} : { reason: mask(r.reason) }) })),
      ...(this.dropped ? { egressDropped: this.dropped } : {}),
      ...(subs ? { substitutions: subs } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.opts.hooks?.close();
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private track(s: Duplex): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
  }

  private record(r: EgressRecord): EgressRecord {
    if (this.log.length < (this.opts.maxRecords ?? 200)) this.log.push(r);
    else this.dropped++;
    return r;
  }

  /** Allowed with an address to use, or the refusal text. */
  private async vet(hostRaw: string, port: number): Promise<{ ok: true; ip: string; rec: EgressRecord } | { ok: false; rec: EgressRecord; body: string }> {
    const host = normalHost(hostRaw);
    const shown = `${hostRaw.includes(':') && !hostRaw.startsWith('[') ? `[${hostRaw}]` : hostRaw}:${port}`;
    const deny = (ip: string | null, reason: string, refusal: EgressRefusal) => {
      const rec = this.record({ host, port, ip, decision: 'deny', bytesIn: 0, bytesOut: 0, reason, refusal });
      return { ok: false as const, rec, body: `outloop: egress to ${shown} refused (${reason}).${refusal === 'not_allowed' || refusal === 'private_address' ? " Ask for the recipe's hosts to be extended." : ''}\n` };
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return deny(null, 'not a valid port', 'not_allowed');
    const entry: HostEntry | undefined = matchEntry(host, String(port), this.opts.hosts) ?? (this.opts.open ? { raw: '*', host, port: String(port) } : undefined);
    if (!entry) return deny(null, `not in hosts of ${this.opts.label}: ${this.opts.hosts.join(', ') || 'none'}`, 'not_allowed');
    let addrs: string[];
    if (isIP(host)) addrs = [host];
    else {
      try {
        addrs = (await this.lookup(host)).map((a) => a.address);
      } catch (err) {
        return deny(null, `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`, 'does_not_resolve');
      }
    }
    // The first address the entry may reach; one that resolves only inside is refused, naming what it saw.
    let refused: { ip: string; cls: string } | undefined;
    for (const ip of addrs) {
      const r = entry.raw === '*' ? undefined : addressRefusal(entry, ip);
      if (!r && this.closed) return deny(ip, 'the run is over', 'run_over');
      if (!r) return { ok: true, ip, rec: this.record({ host, port, ip, decision: 'allow', bytesIn: 0, bytesOut: 0 }) };
      refused ??= { ip, cls: r.cls };
    }
    if (!refused) return deny(null, `${host} has no address`, 'does_not_resolve');
    return deny(refused.ip, `${host} resolves to ${refused.ip}, a ${refused.cls} address; only a hosts entry naming that address reaches it`, 'private_address');
  }

  private async onConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.track(client);
    client.on('error', () => {});
    const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(req.url ?? '');
    if (!m) {
      this.record({ host: String(req.url), port: 0, ip: null, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: 'CONNECT needs host:port', refusal: 'not_proxy_request' });
      client.end(plain(400, 'outloop: CONNECT needs host:port.\n'));
      return;
    }
    const v = await this.vet(m[1]!.replace(/^\[|\]$/g, ''), Number(m[2]));
    if (!v.ok) {
      client.end(plain(403, v.body));
      return;
    }
    const rec = v.rec;
    if (this.opts.hooks?.wants(rec.host, rec.port)) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      this.opts.hooks.serveTls(client, head, { host: rec.host, port: rec.port, ip: v.ip, rec });
      return;
    }
    // noDelay, as on the child's side (forwarder.ts): a TLS record in two small writes must not wait for
    // the service's delayed ACK of the first.
    const up = connect({ host: v.ip, port: rec.port, noDelay: true });
    this.track(up);
    up.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) {
        rec.bytesOut += head.length;
        up.write(head);
      }
      client.on('data', (d: Buffer) => (rec.bytesOut += d.length));
      up.on('data', (d: Buffer) => (rec.bytesIn += d.length));
      client.pipe(up);
      up.pipe(client);
    });
    up.once('error', (err: NodeJS.ErrnoException) => {
      if (!client.writableEnded && rec.bytesIn === 0 && rec.bytesOut === 0) {
        rec.reason = `connect failed: ${err.code ?? err.message}`;
        rec.refusal = 'upstream_failed';
        client.end(plain(502, `outloop: ${rec.host}:${rec.port} (${v.ip}) did not accept the connection (${err.code ?? 'error'}).\n`));
      } else client.destroy();
    });
    client.once('close', () => up.destroy());
    up.once('close', () => client.destroy());
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      this.record({ host: '?', port: 0, ip: null, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: 'not an absolute-form proxy request', refusal: 'not_proxy_request' });
      res.writeHead(400, { 'content-type': 'text/plain' }).end('outloop: this is an HTTP proxy; send absolute URLs or CONNECT.\n');
      return;
    }
    if (url.protocol !== 'http:') {
      this.record({ host: url.hostname, port: 0, ip: null, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: `scheme ${url.protocol} is not proxied`, refusal: 'not_proxy_request' });
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`outloop: only http:// URLs are forwarded as requests; use CONNECT for ${url.protocol}//.\n`);
      return;
    }
    const port = Number(url.port || 80);
    const v = await this.vet(url.hostname.replace(/^\[|\]$/g, ''), port);
    if (!v.ok) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(v.body);
      return;
    }
    const rec = v.rec;
    if (this.opts.hooks) {
      this.opts.hooks.handle(req, res, { host: rec.host, port, ip: v.ip, rec }, url.pathname + url.search);
      return;
    }
    const headers = { ...req.headers };
    // Hop-by-hop headers addressed to this proxy, not to the origin.
    for (const h of ['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']) delete headers[h];
    headers.host = url.host;
    const up = httpRequest({ host: v.ip, port, method: req.method, path: url.pathname + url.search, headers, agent: false, setHost: false });
    up.on('socket', (s) => this.track(s));
    // Bytes out: the request as sent on (line and headers, roughly as written) plus its body.
    rec.bytesOut += Buffer.byteLength(`${req.method} ${url.pathname}${url.search} HTTP/1.1\r\n`) + req.rawHeaders.reduce((n, h) => n + Buffer.byteLength(h) + 2, 2);
    req.on('data', (d: Buffer) => (rec.bytesOut += d.length));
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, ur.headers);
      ur.on('data', (d: Buffer) => (rec.bytesIn += d.length));
      ur.pipe(res);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      rec.reason = `connect failed: ${err.code ?? err.message}`;
      rec.refusal = 'upstream_failed';
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`outloop: ${rec.host}:${port} (${v.ip}) did not answer (${err.code ?? 'error'}).\n`);
      else res.destroy();
    });
    req.pipe(up);
  }
}

function plain(status: number, body: string): string {
  const text = { 400: 'Bad Request', 403: 'Forbidden', 501: 'Not Implemented', 502: 'Bad Gateway' }[status] ?? 'Error';
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
