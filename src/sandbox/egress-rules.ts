import { isIP } from 'node:net';
import { hostAllowed } from '../policy/hosts.js';
import { canonicalIp, classifyIp, type AddressClass } from './ip.js';

/**
 * The egress rules, pure: which `hosts` entry lets a connection to host:port through, and whether the
 * address the proxy resolved may be used. The name matching is the host gate's own (policy/hosts.ts), so
 * argv checks and the wire agree on what `*.example.com` means; on the wire an entry without a port means
 * the web's ports, 443 and 80, and nothing else.
 */
export const DEFAULT_PORTS = new Set(['443', '80']);

export interface HostEntry {
  raw: string;
  host: string;
  port: string | undefined;
}

export function parseEntry(raw: string): HostEntry {
  const e = raw.toLowerCase();
  if (e.startsWith('[')) {
    const close = e.indexOf(']');
    const port = e.slice(close + 1).replace(/^:/, '');
    return { raw, host: e.slice(1, close), port: port || undefined };
  }
  const i = e.lastIndexOf(':');
  return i === -1 ? { raw, host: e, port: undefined } : { raw, host: e.slice(0, i), port: e.slice(i + 1) };
}

/** host as a client wrote it (`[::1]`, `API.example.com.`), normalised for matching. */
export function normalHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return isIP(h) ? canonicalIp(h) : h;
}

/** The first entry that allows host:port, or undefined. An IP is matched only by an entry that is that IP. */
export function matchEntry(host: string, port: string, entries: readonly string[]): HostEntry | undefined {
  const h = normalHost(host);
  const literal = isIP(h) !== 0;
  for (const raw of entries) {
    const e = parseEntry(raw);
    if (e.port !== undefined ? e.port !== port : !DEFAULT_PORTS.has(port)) continue;
    const entryIsIp = isIP(e.host) !== 0;
    if (literal || entryIsIp) {
      if (literal && entryIsIp && canonicalIp(e.host) === h) return e;
      continue;
    }
    if (hostAllowed(h, port, [e.port === undefined ? e.host : `${e.host}:${e.port}`])) return e;
  }
  return undefined;
}

/**
 * May the proxy connect to `ip` for a request that `entry` allowed? Public addresses always; an inside
 * address only when the entry names that very address, or is `localhost` and the address is loopback.
 */
export function addressRefusal(entry: HostEntry, ip: string): { cls: AddressClass } | undefined {
  const cls = classifyIp(ip);
  if (cls === 'public') return undefined;
  if (isIP(entry.host) && canonicalIp(entry.host) === canonicalIp(ip)) return undefined;
  if (entry.host === 'localhost' && cls === 'loopback') return undefined;
  return { cls };
}
