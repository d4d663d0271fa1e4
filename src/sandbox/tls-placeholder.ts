import { LeafIssuer, loadOrCreateCa } from '../placeholder/ca.js';
import { Substituter, type PlaceholderSecret } from '../placeholder/substitute.js';
import type { Redactor } from '../redact/index.js';
import { NODE_PROXY_PRELOAD } from '../placeholder/node-proxy.js';
import { rootCertificates } from 'node:tls';
import { beyondNodeRoots, fileAnchors, Interceptor } from './tls-intercept.js';

/**
 * What a placeholder run adds to the sandbox: the proxy's hooks, the CA bundle the child trusts (outloop's
 * CA plus the system's and outloop's own NODE_EXTRA_CA_CERTS, so hosts the proxy does not look into still
 * verify; for node children only the part node lacks), and the variables that point the usual clients at it.
 */
export async function placeholderProxy(ph: { secrets: PlaceholderSecret[] }, stateDir: string) {
  const ca = loadOrCreateCa(stateDir);
  const values = await replyRedactor(ph.secrets);
  const system = fileAnchors();
  // The proxy's upstream trust adds these to node's roots too (without outloop's CA): found once for both.
  const beyondRoots = beyondNodeRoots(system);
  const hooks = new Interceptor({ substituter: new Substituter(ph.secrets), issuer: new LeafIssuer(ca), redactor: values, beyondRoots });
  const pem = (certs: string[]) => certs.map((c) => c.trim()).join('\n') + '\n';
  // Node adds NODE_EXTRA_CA_CERTS to its own roots, parsing each at start-up (~0.3 ms a certificate), so
  // node children get only what node lacks; curl, Python and git replace their store and get the whole.
  const files = { 'ca-bundle.pem': pem([ca.certPem, ...rootCertificates, ...system]), 'node-ca.pem': pem([ca.certPem, ...beyondRoots]), 'node-proxy.cjs': NODE_PROXY_PRELOAD };
  return { hooks, files, env: (dir: string, nodeOptions: string | undefined) => caEnv(dir, nodeOptions) };
}

/**
 * The redactor for replies towards the child: the run's values in all their forms (base64, URL, JSON
 * escapes, ...). Secret shapes, hex dumps and terminal rewrites are left to the child's output redactor
 * (what the child prints is read there), which keeps a large body cheap here: a reply goes to a
 * program, not to a screen.
 */
export async function replyRedactor(secrets: readonly PlaceholderSecret[]): Promise<Redactor> {
  const { Redactor } = await import('../redact/index.js');
  return new Redactor(secrets.map((s) => ({ name: s.name, value: s.value })), { terminal: false });
}

/** The child's variables: every usual client trusts the bundle; node children get the proxy preload too. */
export function caEnv(dir: string, nodeOptions: string | undefined): Record<string, string> {
  const file = `${dir}/ca-bundle.pem`;
  return {
    NODE_OPTIONS: `${nodeOptions ? `${nodeOptions} ` : ''}--require="${dir}/node-proxy.cjs"`,
    SSL_CERT_FILE: file,
    NODE_EXTRA_CA_CERTS: `${dir}/node-ca.pem`,
    REQUESTS_CA_BUNDLE: file,
    CURL_CA_BUNDLE: file,
    GIT_SSL_CAINFO: file,
  };
}
