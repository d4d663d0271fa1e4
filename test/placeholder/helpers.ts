import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { issue, newKey, spkiOf } from '../../src/placeholder/x509.js';

/**
 * A local HTTPS API for placeholder tests, with a certificate from a test CA of its own. Outloop trusts
 * that CA only through NODE_EXTRA_CA_CERTS given to outloop itself (the proxy's upstream check); the
 * child never sees it. The API accepts the real credential as a Bearer token or Basic password and, like
 * careless APIs, echoes the Authorization header it got.
 */
export interface TlsApi {
  port: number;
  caFile: string;
  seen: { method: string; url: string; authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

export function testCa(dir: string, name = 'test-ca') {
  const k = newKey();
  const ca = issue({ publicKey: k.publicKey, subjectCn: `Outloop ${name}`, issuerKey: k.privateKey, issuerCn: `Outloop ${name}`, issuerSpki: spkiOf(k.publicKey), ca: true, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000) });
  const caFile = join(dir, `${name}.pem`);
  writeFileSync(caFile, ca.certPem);
  const leaf = (hosts: string[]) => {
    const lk = newKey();
    const c = issue({ publicKey: lk.publicKey, subjectCn: hosts[0]!, issuerKey: k.privateKey, issuerCn: `Outloop ${name}`, issuerSpki: spkiOf(k.publicKey), ca: false, hosts, notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + 86_400_000) });
    return { cert: c.certPem, key: lk.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  };
  return { caFile, leaf };
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

export async function startTlsApi(dir: string, real: string, extra?: Handler): Promise<TlsApi> {
  const ca = testCa(dir, `api-ca-${randomBytes(3).toString('hex')}`);
  const seen: TlsApi['seen'] = [];
  const server = createServer(ca.leaf(['127.0.0.1', 'localhost']), (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      const authorization = req.headers.authorization;
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization, body });
      if (extra?.(req, res, body)) return;
      const basic = /^Basic (.+)$/.exec(authorization ?? '');
      const pass = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
      const url = new URL(req.url ?? '/', 'https://x');
      const ok = authorization === `Bearer ${real}` || pass === real || url.searchParams.get('key') === real || body.includes(real);
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo', authorization ?? '');
      res.writeHead(ok ? 200 : 401).end(`${JSON.stringify({ ok, got: authorization ?? null })}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, caFile: ca.caFile, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** A GitHub-shaped token: what the vendor's SDKs expect to see. */
export function ghToken(): string {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `ghp_${[...randomBytes(36)].map((b) => abc[b % abc.length]).join('')}`;
}

export function recipeFile(service: string, hosts: string[], secret: string, substitute?: string[]): string {
  return [
    `service: ${service}`,
    `hosts: [${hosts.map((h) => JSON.stringify(h)).join(', ')}]`,
    `secrets: [${secret}]`,
    ...(substitute ? [`placeholders:`, `  ${secret}: { substitute: [${substitute.join(', ')}] }`] : []),
    'recipes:',
    '  noop:',
    '    description: unused',
    '    risk: read',
    '    run: ["true"]',
    '',
  ].join('\n');
}
