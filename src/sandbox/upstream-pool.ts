import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect, type SecureContext, type TLSSocket } from 'node:tls';
import type { ProxyTarget } from './proxy.js';

/**
 * The byte relay's TLS connections to the service, verified like the node-http path's (the run's trust
 * store, the host's name checked, not the address connected to), and kept alive: a connection the child
 * is done with waits here for the child's next connection to the same host, so a client that opens one
 * connection per request (git) still costs the service one handshake per run, as node's agent did.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, TLSSocket[]>();
  private readonly parked = new WeakMap<TLSSocket, () => void>();
  private closed = false;

  constructor(private readonly context: () => SecureContext, private readonly track: (s: Duplex) => void) {}

  /** A verified connection to t (idle or new); `reused` says whether it has carried a request before. */
  get(t: ProxyTarget, cb: (err: NodeJS.ErrnoException | undefined, sock: TLSSocket | undefined, reused: boolean) => void): void {
    const list = this.idle.get(key(t));
    for (let s = list?.pop(); s; s = list?.pop()) {
      this.unpark(s);
      if (!s.destroyed && s.writable) return cb(undefined, s, true);
    }
    if (this.closed) return cb(Object.assign(new Error('the run is over'), { code: 'ERUNOVER' }), undefined, false);
    const s = connect({
      host: t.ip, port: t.port, secureContext: this.context(), ALPNProtocols: ['http/1.1'],
      ...(isIP(t.host) ? {} : { servername: t.host }),
      checkServerIdentity: (_n, cert) => checkServerIdentity(t.host, cert),
    });
    this.track(s);
    s.setNoDelay(true);
    const failed = (err: NodeJS.ErrnoException) => cb(err, undefined, false);
    s.once('error', failed);
    s.once('secureConnect', () => {
      s.off('error', failed);
      cb(undefined, s, false);
    });
  }

  /** Keep a connection that finished its last exchange cleanly. */
  release(t: ProxyTarget, s: TLSSocket): void {
    if (this.closed || s.destroyed || !s.writable) return void s.destroy();
    const k = key(t);
    const list = this.idle.get(k) ?? [];
    this.idle.set(k, list);
    list.push(s);
    // While parked, anything from the server (a late byte, a close) makes the connection useless.
    const drop = () => {
      this.unpark(s);
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      s.destroy();
    };
    s.on('data', drop).on('end', drop).on('close', drop).on('error', drop);
    this.parked.set(s, () => s.off('data', drop).off('end', drop).off('close', drop).off('error', drop));
    s.resume();
  }

  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const s of list.splice(0)) s.destroy();
  }

  private unpark(s: TLSSocket): void {
    this.parked.get(s)?.();
    this.parked.delete(s);
  }
}

const key = (t: ProxyTarget) => `${t.ip}\0${t.port}\0${t.host}`;
