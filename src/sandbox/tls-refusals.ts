import type { PlaceholderSecret } from '../placeholder/substitute.js';
import type { Surface } from '../recipe/schema.js';
import type { EgressRecord, ProxyTarget } from './proxy.js';

/**
 * What the placeholder proxy answers when it does not forward a request, and what it records: one text
 * for both of its paths (node's http objects in tls-intercept.ts, the byte relay in tls-relay.ts), since
 * the reader is an agent that has to tell a person why, and the audit record must not depend on the path.
 */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Record_ = (r: EgressRecord) => EgressRecord;
const TEXT = 'text/plain; charset=utf-8';

export function wrongHost(record: Record_, t: ProxyTarget, s: PlaceholderSecret, surface: Surface): Refusal {
  record({ host: t.host, port: t.port, ip: t.ip, decision: 'deny', bytesIn: 0, bytesOut: 0,
    reason: `placeholder_wrong_host: the placeholder of ${s.name} (${surface}) is only for ${s.service}'s hosts; not replaced, not sent` });
  return {
    status: 403,
    headers: { 'content-type': TEXT, connection: 'close', 'x-outloop-refusal': 'placeholder_wrong_host' },
    body: `outloop: request to ${t.host}:${t.port} refused (placeholder_wrong_host): it carries the placeholder of ${s.name}, which only ${s.service}'s hosts (${s.hosts.join(', ')}) receive. It was not replaced and not sent.\n`,
  };
}

/** The upstream connection failed or did not verify; the connection's record says which. */
export function upstreamFailed(t: ProxyTarget, rec: EgressRecord, err: NodeJS.ErrnoException): Refusal {
  const code = err.code ?? err.message;
  const unverified = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|SIGNATURE|VERIFY/i.test(code);
  rec.reason = unverified ? `upstream_unverified: ${code}` : `connect failed: ${code}`;
  if (unverified) rec.decision = 'deny';
  return {
    status: 502,
    headers: { 'content-type': TEXT, connection: 'close', ...(unverified ? { 'x-outloop-refusal': 'upstream_unverified' } : {}) },
    body: unverified
      ? `outloop: ${t.host}:${t.port} refused (upstream_unverified): its certificate did not verify (${code}); nothing was sent.\n`
      : `outloop: ${t.host}:${t.port} (${t.ip}) did not answer (${code}).\n`,
  };
}

/**
 * A request whose framing could be read two ways (tls-relay.ts, http1.ts): refused before anything of it
 * is sent, and the connection is closed, since where the next request would start is just as unclear.
 */
export function badFraming(record: Record_, t: ProxyTarget, why: string): Refusal {
  record({ host: t.host, port: t.port, ip: t.ip, decision: 'deny', bytesIn: 0, bytesOut: 0, reason: `bad_request_framing: ${why}; not sent` });
  return {
    status: 400,
    headers: { 'content-type': TEXT, connection: 'close', 'x-outloop-refusal': 'bad_request_framing' },
    body: `outloop: request to ${t.host}:${t.port} refused (bad_request_framing): ${why}. Nothing of it was sent.\n`,
  };
}

/** A request with a real value in it whose Host header names another site than the one verified. */
export function misdirected(record: Record_, t: ProxyTarget, host: string): Refusal {
  const shown = host.slice(0, 200);
  record({ host: t.host, port: t.port, ip: t.ip, decision: 'deny', bytesIn: 0, bytesOut: 0,
    reason: `placeholder_misdirected: Host ${shown} is not ${t.host}:${t.port}; not replaced, not sent` });
  return {
    status: 421,
    headers: { 'content-type': TEXT, connection: 'close', 'x-outloop-refusal': 'placeholder_misdirected' },
    body: `outloop: request to ${t.host}:${t.port} refused (placeholder_misdirected): its Host header names ${shown}, and a placeholder is replaced only for the host the connection was opened to. It was not sent.
`,
  };
}

/** The same refusal as raw bytes, for the relay. */
export function refusalBytes(r: Refusal): string {
  let s = `HTTP/1.1 ${r.status} ${r.status === 400 ? 'Bad Request' : r.status === 403 ? 'Forbidden' : r.status === 421 ? 'Misdirected Request' : r.status === 502 ? 'Bad Gateway' : 'Error'}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) s += `${k}: ${v}\r\n`;
  return `${s}content-length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`;
}
