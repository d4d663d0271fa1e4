import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { ghToken, startTlsApi, type TlsApi } from './helpers.js';

/**
 * A recipe under a grant with `placeholder: true`: its templates render with the sentinel, so even a
 * general program as the child never holds the value; check and --dry-run say which secrets go so.
 */
/**
 * A client that opens its own tunnel, as proxy libraries do, but through http's default agent, in a
 * program that asks node for its proxy support (NODE_USE_ENV_PROXY=1): node 22.21+ and 24.5+ would send
 * that CONNECT through the proxy it is addressed to, unless NO_PROXY names the proxy
 * (src/sandbox/forwarder.ts, proxyEnv).
 */
const HAND_CONNECT = `const http = require('node:http'), tls = require('node:tls');
const proxy = new URL(process.env.HTTPS_PROXY), port = process.argv[1];
http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: '127.0.0.1:' + port }).on('connect', (res, sock) => {
  if (res.statusCode !== 200) { console.log('CONNECT refused: ' + res.statusCode); process.exit(1); }
  const t = tls.connect({ socket: sock, host: '127.0.0.1' }, () => t.end('GET /user HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nAuthorization: Bearer ' + process.env.T + '\\r\\nConnection: close\\r\\n\\r\\n'));
  let got = '';
  t.on('data', (d) => (got += d)).on('end', () => console.log(got.split('\\r\\n\\r\\n')[1]));
}).end();`;

describe('exec with placeholder: true', () => {
  const TOKEN = ghToken();
  let e: E2E;
  let api: TlsApi;

  beforeAll(async () => {
    e = makeE2E(['acme']);
    api = await startTlsApi(e.root, TOKEN);
    e.writeRecipe('gh', `service: gh
hosts: ["127.0.0.1:${api.port}"]
secrets: [TOKEN]
recipes:
  whoami:
    description: call the API
    risk: read
    run: [curl, -sS, -K, -, "https://127.0.0.1:${api.port}/user"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
  shell:
    description: a general program holding the credential
    risk: read
    run: [sh, -c, 'printf "%s" "$T" | rev']
    env: { T: "{{secrets.TOKEN}}" }
  tunnel:
    description: a CONNECT written by hand, through node's default agent
    risk: read
    run: [node, -e, ${JSON.stringify(HAND_CONNECT)}, "${api.port}"]
    env: { T: "{{secrets.TOKEN}}", NODE_USE_ENV_PROXY: "1" }
`);
    e.writeConfig(configYaml(e, { acme: 'gh:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  placeholder: true' }));
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(async () => {
    e?.cleanup();
    await api?.close();
  });
  const env = () => ({ NODE_EXTRA_CA_CERTS: api.caFile });

  it('check and --dry-run name the placeholder secrets; the audit says so too', async () => {
    const c = await e.cli(['check', 'gh.whoami']);
    expect(c.stdout).toContain('TOKEN -> local:acme/token (as a placeholder)');
    const d = await e.cli(['exec', 'gh.whoami', '--dry-run']);
    expect(d.stdout).toContain(`placeholders: TOKEN (the child gets per-run stand-ins; the proxy puts the values in only for 127.0.0.1:${api.port})`);
    const j = JSON.parse((await e.cli(['exec', 'gh.whoami', '--dry-run', '--json'])).stdout);
    expect(j.placeholders).toEqual(['TOKEN']);
    expect(e.audit().at(-1)).toMatchObject({ dryRun: true, placeholders: ['TOKEN'] });
  });

  it('the recipe reaches the API with the value; the child held only the sentinel', async () => {
    const r = await e.cli(['exec', 'gh.whoami'], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"ok":true,"got":"Bearer [REDACTED:TOKEN]"}\n');
    expect(api.seen.at(-1)).toMatchObject({ url: '/user', authorization: `Bearer ${TOKEN}` });
    expect(e.audit().at(-1)).toMatchObject({ phase: 'end', exitCode: 0, placeholders: ['TOKEN'], substitutions: [{ secret: 'TOKEN', host: '127.0.0.1', surface: 'header', count: 1 }] });
    const s = await e.cli(['exec', 'gh.shell'], { env: env() });
    const held = [...s.stdout].reverse().join('');
    expect(held).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(held).not.toBe(TOKEN);
  });

  it('a CONNECT written by hand through node\'s default agent reaches the API too (NO_PROXY names the proxy)', async () => {
    const r = await e.cli(['exec', 'gh.tunnel'], { env: env() });
    // The body as it came (chunked or not: this client reads raw bytes).
    expect(r.stdout).toContain('{"ok":true,"got":"Bearer [REDACTED:TOKEN]"}');
    expect(api.seen.at(-1)).toMatchObject({ url: '/user', authorization: `Bearer ${TOKEN}` });
  });

  it('doctor says plainly what a CA key readable by this user leaves open (personal mode)', async () => {
    const r = await e.cli(['doctor', '--json']);
    const f = (JSON.parse(r.stdout).findings as { check: string; severity: string; message: string; fix?: string }[]).find((x) => x.check === 'placeholders')!;
    expect(f.severity).toBe('warn');
    expect(f.message).toContain('personal mode; used by acme.gh');
    expect(f.message).toContain('readable by this user');
    expect(f.message).toContain('not a hostile agent');
    expect(f.fix).toContain('system mode');
  });
});
