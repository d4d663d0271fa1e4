import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { caFile, LeafIssuer, loadOrCreateCa } from '../../src/placeholder/ca.js';

const dir = mkdtempSync(join(tmpdir(), 'outloop-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const firstCert = (pem: string) => pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26);

describe('the placeholder CA (own DER writer, EC P-256)', () => {
  it('is created once per install, 0600, and the same CA is loaded again', () => {
    const a = loadOrCreateCa(join(dir, 'state'));
    expect(statSync(caFile(join(dir, 'state'))).mode & 0o777).toBe(0o600);
    const b = loadOrCreateCa(join(dir, 'state'));
    expect(b.certPem).toBe(a.certPem);
    expect(readFileSync(a.file, 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('openssl verifies a leaf for a name and one for an IP under X509_STRICT, with the right names', () => {
    const ca = loadOrCreateCa(join(dir, 'state'));
    const issuer = new LeafIssuer(ca);
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    for (const host of ['api.stripe.com', '127.0.0.1', '::1']) {
      writeFileSync(join(dir, 'leaf.pem'), firstCert(issuer.leaf(host).certPem));
      const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
      expect(out.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
      const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(dir, 'leaf.pem')], { encoding: 'utf8' });
      expect(text).toContain(host.includes(':') ? 'IP Address:0:0:0:0:0:0:0:1' : host.includes('.') && /^\d/.test(host) ? `IP Address:${host}` : `DNS:${host}`);
    }
    // Issued once per host and run.
    expect(issuer.leaf('API.stripe.com')).toBe(issuer.leaf('api.stripe.com'));
  });

  it('node verifies a TLS server using a leaf, by name; another name fails', async () => {
    const ca = loadOrCreateCa(join(dir, 'state'));
    const leaf = new LeafIssuer(ca).leaf('localhost');
    const srv = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (s) => s.end('hi'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const attempt = (servername: string) =>
      new Promise<string>((resolve) => {
        const c = tls.connect({ port, host: '127.0.0.1', servername, ca: ca.certPem }, () => {
          resolve(`ok ${c.authorized}`);
          c.end();
        });
        c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    expect(await attempt('localhost')).toBe('ok true');
    expect(await attempt('example.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    srv.close();
  });
});
