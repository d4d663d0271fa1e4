import { isIP, type OnReadOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { RECORD_PLAINTEXT } from './borrowed-reads.js';
import type { ProxyTarget } from './proxy.js';

/** What a connection reads goes to its reader: a view of the connection's read buffer, valid during the call. */
export type UpstreamReader = (view: Buffer) => void;

/**
 * The byte relay's TLS connections to the service, verified like the node-http path's (the run's trust
 * store, the host's name checked, not the address connected to), and kept alive: a connection the child
 * is done with waits here for the child's next connection to the same host, so a client that opens one
 * connection per request (git) still costs the service one handshake per run, as node's agent did.
 *
 * Each connection reads into one buffer of its own (node's `onread`), handed to the reader set with
 * `read`, instead of a fresh 16 KiB buffer per TLS record as a 'data' event: the allocations were about
 * 6 ms of the proxy's CPU per 16 MiB reply. The reader consumes or copies each view before it returns.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, TLSSocket[]>();
  private readonly parked = new WeakMap<TLSSocket, () => void>();
  private readonly readers = new WeakMap<TLSSocket, UpstreamReader>();
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
    const buffer = Buffer.allocUnsafeSlow(RECORD_PLAINTEXT);
    // tls.connect documents onread (node's types do not have it yet).
    const options: ConnectionOptions & { onread: OnReadOpts } = {
      // Bytes with no reader (the relay let go of the connection and has not parked it): out of step.
      onread: {
        buffer,
        callback: (n) => {
          const reader = this.readers.get(s);
          if (reader) reader(buffer.subarray(0, n));
          else s.destroy();
          return true;
        },
      },
      host: t.ip, port: t.port, secureContext: this.context(), ALPNProtocols: ['http/1.1'],
      ...(isIP(t.host) ? {} : { servername: t.host }),
      checkServerIdentity: (_n, cert) => checkServerIdentity(t.host, cert),
    };
    const s = connect(options);
    // What the service sent last (an echo of the real value, say) does not outlive the connection.
    s.once('close', () => buffer.fill(0));
    this.track(s);
    s.setNoDelay(true);
    const failed = (err: NodeJS.ErrnoException) => cb(err, undefined, false);
    s.once('error', failed);
    s.once('secureConnect', () => {
      s.off('error', failed);
      cb(undefined, s, false);
    });
  }

  /** Send what `s` reads to `reader` (undefined: nobody reads; anything that comes closes the connection). */
  read(s: TLSSocket, reader: UpstreamReader | undefined): void {
    if (reader) this.readers.set(s, reader);
    else this.readers.delete(s);
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
    this.read(s, drop);
    s.on('end', drop).on('close', drop).on('error', drop);
    this.parked.set(s, () => {
      this.read(s, undefined);
      s.off('end', drop).off('close', drop).off('error', drop);
    });
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
