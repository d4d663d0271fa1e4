/**
 * A preload (`node --require`) that outloop puts in front of node children of a placeholder run: node's
 * fetch and https ignore HTTP(S)_PROXY unless NODE_USE_ENV_PROXY=1, and even then (22.21+, 24.5+) an
 * https.Agent the program makes itself (Stripe's SDK does) connects directly on 24, and 22 warns on
 * stderr at every start that its proxy support is experimental. So outloop does not set that variable;
 * this sends fetch (undici's global dispatcher, rebuilt with a connector that tunnels through the proxy)
 * and every https.Agent's connections through CONNECT to the egress proxy, on every node release, so
 * SDKs run unedited. Where the program's own environment asks node for its proxy support, node's fetch
 * dispatcher is left to it; the agents still tunnel here. Shipped as text, written beside the CA bundle.
 * CommonJS, not an ES module: `--import` starts node's ESM loader in every child, CommonJS or not
 * (about 5 ms a node start here); `--require` runs before an ES module's own imports all the same.
 */
export const NODE_PROXY_PRELOAD = String.raw`'use strict';
const http = require('node:http');
const https = require('node:https');
const tls = require('node:tls');
const net = require('node:net');
const { isIP } = net;
const [maj, min] = process.versions.node.split('.').map(Number);
const native = process.env.NODE_USE_ENV_PROXY === '1' && (maj > 24 || (maj === 24 && min >= 5) || (maj === 22 && min >= 21));
const raw = process.env.HTTPS_PROXY || process.env.https_proxy;
if (raw) {
  const proxy = new URL(raw);
  const bypass = (process.env.NO_PROXY || process.env.no_proxy || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const direct = (h) => bypass.some((b) => b === '*' || h === b || h.endsWith(b.startsWith('.') ? b : '.' + b));
  const tunnel = (o, cb) => {
    const host = String(o.hostname || o.host).replace(/^\[|\]$/g, '');
    const port = Number(o.port) || (o.protocol === 'http:' ? 80 : 443);
    const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: (host.includes(':') ? '[' + host + ']' : host) + ':' + port, agent: false });
    req.once('connect', (res, sock, head) => {
      if (res.statusCode !== 200) {
        sock.destroy();
        return cb(Object.assign(new Error('outloop egress proxy refused ' + host + ':' + port + ' (' + res.statusCode + ')'), { code: 'ECONNREFUSED' }));
      }
      if (head && head.length) sock.unshift(head);
      if (o.protocol === 'http:') return cb(null, sock);
      const t = tls.connect({ ...o.tls, socket: sock, host, servername: isIP(host) ? undefined : o.servername || host, ALPNProtocols: ['http/1.1'] });
      t.once('secureConnect', () => cb(null, t));
      t.once('error', (e) => cb(e));
    });
    req.once('error', (e) => cb(e));
    req.end();
  };
  const straight = (o, cb) => {
    const host = String(o.hostname || o.host).replace(/^\[|\]$/g, '');
    const port = Number(o.port) || (o.protocol === 'http:' ? 80 : 443);
    const s = o.protocol === 'http:' ? net.connect({ host, port }) : tls.connect({ host, port, servername: isIP(host) ? undefined : o.servername || host, ALPNProtocols: ['http/1.1'] });
    s.once(o.protocol === 'http:' ? 'connect' : 'secureConnect', () => cb(null, s));
    s.once('error', (e) => cb(e));
  };
  // fetch's dispatcher, set up when first needed: loading undici costs ~17 ms at every start, and most
  // children never fetch. Node loads undici at the first fetch call, and undici then puts its default
  // Agent at the key below; that Agent's class, with the tunnel as connector, replaces it. A reader of
  // the key before any fetch (npm's undici) gets the same: the getter loads it first. A dispatcher the
  // program set itself before that is left alone, as it replaced this one before.
  // Node also loads undici for Headers, Request, Response, WebSocket, and on 22 and 24 for an ES import
  // of node:http (its WebSocket export): undici then reads the key while it is still loading, and fetch
  // cannot start until that load ends. The getter answers nothing, undici puts its default Agent there
  // as its load ends, and that Agent is replaced right after (a microtask), or at the first fetch if that
  // comes sooner. A dispatcher the program sets in that same turn, after undici loaded, is replaced too.
  const key = Symbol.for('undici.globalDispatcher.1');
  const nodeFetch = globalThis.fetch;
  let loading = false;
  let replacePending = false;
  // The key as a plain value, as undici and a program's own assignment leave it.
  const settle = (v) => Object.defineProperty(globalThis, key, { value: v, writable: true, configurable: true, enumerable: false });
  const get = () => (loading ? undefined : (install(), globalThis[key]));
  const install = () => {
    if (replacePending) return replaceDefault();
    if (Object.getOwnPropertyDescriptor(globalThis, key)?.get !== get) return;
    loading = true;
    let undiciLoading = false;
    try {
      // Loads undici at once (the promise only rejects: no argument); undici's own read of the key sees
      // nothing and defines its default Agent there, which ends this getter. It throws at once only
      // while undici is still loading.
      nodeFetch().catch(() => {});
    } catch {
      undiciLoading = true;
    } finally {
      loading = false;
    }
    if (undiciLoading) {
      settle(undefined);
      replacePending = true;
      queueMicrotask(() => replacePending && replaceDefault());
      return;
    }
    if (Object.getOwnPropertyDescriptor(globalThis, key)?.get === get) {
      settle(undefined);
    }
    replaceDefault();
  };
  const replaceDefault = () => {
    replacePending = false;
    const Agent = globalThis[key]?.constructor;
    if (Agent) {
      globalThis[key] = new Agent({
        connect: (o, cb) => (direct(String(o.hostname)) ? straight : tunnel)({ ...o, tls: {} }, cb),
      });
    }
  };
  // Without a fetch (--no-experimental-fetch) there is nothing to set up; with node's own proxy support
  // its dispatcher already tunnels.
  if (typeof nodeFetch === 'function' && !native) {
    Object.defineProperty(globalThis, key, {
      configurable: true,
      enumerable: false,
      get,
      set: settle,
    });
    Object.defineProperty(globalThis, 'fetch', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: function fetch(input, init) {
        install();
        return nodeFetch(input, init);
      },
    });
  }
  const original = https.Agent.prototype.createConnection;
  https.Agent.prototype.createConnection = function (options, cb) {
    const host = options.host || options.hostname || 'localhost';
    if (direct(String(host))) return original.call(this, options, cb);
    const { ca, cert, key: k, rejectUnauthorized, ciphers, minVersion } = options;
    tunnel({ hostname: host, port: options.port, protocol: 'https:', servername: options.servername, tls: { ca, cert, key: k, rejectUnauthorized, ciphers, minVersion } }, cb);
    return undefined;
  };
}
`;
