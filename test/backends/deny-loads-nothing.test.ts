import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeE2E, type E2E } from '../e2e/helpers.js';
import { CI, keyring, requireKeyring, secretTool } from '../helpers/keyring.js';

// Deny before touching, per backend, end to end: a denied request, a check or a dry run must not even
// LOAD a backend's module (the adapter-probe preload records every adapter chunk and the native keychain
// binding the CLI resolves), nor run its CLI (the stand-ins log every call). An allowed request loads
// exactly the backend it reads, which proves the probes see what they claim to.
const PROBE = resolve('test/backends/fixtures/adapter-probe.mjs');
const FAKES = resolve('test/backends/fakes');
const TOKEN = 'vendor-session-token-1234';
const VALUE = 'backend-value-9f8e7d6c5b4a';

interface Backend {
  name: string;
  ref: string;
  /** The vendor CLI or server logs each call: an allowed read makes exactly one. */
  counted?: boolean;
  /** Needs a real Secret Service (run under scripts/with-keyring.sh; required in CI). */
  keyring?: boolean;
}
const KEYCHAIN_ITEM = ['service', 'outloop-e2e-deny', 'username', `acme-${process.pid}`];
const BACKENDS: Backend[] = [
  { name: 'local', ref: 'local:acme/token' },
  { name: 'env', ref: 'env:ACME_TOKEN' },
  { name: 'op', ref: 'op://Acme/Stripe/credential', counted: true },
  { name: 'doppler', ref: 'doppler:web/prd/STRIPE_KEY', counted: true },
  { name: 'infisical', ref: 'infisical:6f0c2a/prod/STRIPE_KEY', counted: true },
  { name: 'vault', ref: 'vault:kv/acme/stripe#token', counted: true },
  { name: 'keychain', ref: `keychain:outloop-e2e-deny/acme-${process.pid}`, keyring: true },
];
let vault: Server;

let e: E2E;
let probe: string;
let calls: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  e = makeE2E(['acme', 'globex']);
  const fixture = join(e.root, 'vendor.json');
  writeFileSync(
    fixture,
    JSON.stringify({
      serviceAccountToken: TOKEN,
      vaults: { Acme: { Stripe: { credential: VALUE } } },
      token: TOKEN,
      projects: { web: { prd: { STRIPE_KEY: VALUE } }, '6f0c2a': { prod: { '/': { STRIPE_KEY: VALUE } } } },
    }),
  );
  probe = join(e.root, 'adapters.log');
  calls = join(e.root, 'vendor-calls.log');
  // A KV v2 server (GET /v1/MOUNT/data/PATH) that logs each request like the CLI stand-ins do.
  vault = createServer((req, res) => {
    writeFileSync(calls, `${JSON.stringify({ vault: req.url })}\n`, { flag: 'a' });
    if (req.headers['x-vault-token'] !== TOKEN) return void res.writeHead(403).end('{"errors":["permission denied"]}');
    if (req.url !== '/v1/kv/data/acme/stripe') return void res.writeHead(404).end('{"errors":[]}');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data: { data: { token: VALUE }, metadata: { version: 1 } } }));
  });
  await new Promise<void>((ok) => vault.listen(0, '127.0.0.1', ok));
  if (keyring.ok) secretTool(['store', '--label=outloop e2e', ...KEYCHAIN_ITEM], VALUE);
  env = {
    PATH: [FAKES, e.env.PATH].join(delimiter),
    NODE_OPTIONS: `--import=${PROBE}`,
    OUTLOOP_ADAPTER_PROBE: probe,
    FAKE_VAULT_FILE: fixture,
    FAKE_CALL_LOG: calls,
    OP_SERVICE_ACCOUNT_TOKEN: TOKEN,
    DOPPLER_TOKEN: TOKEN,
    INFISICAL_TOKEN: TOKEN,
    ACME_TOKEN: VALUE,
    VAULT_ADDR: `http://127.0.0.1:${(vault.address() as { port: number }).port}`,
    VAULT_TOKEN: TOKEN,
    ...(process.env.DBUS_SESSION_BUS_ADDRESS ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS } : {}),
  };
  for (const b of BACKENDS) {
    e.writeRecipe(
      `s-${b.name}`,
      `service: s-${b.name}\nsecrets: [TOKEN]\nrecipes:\n  use:\n    description: print the secret\n    risk: read\n    params:\n      n: { type: integer, default: 1, max: 5 }\n    run: [sh, -c, 'printf "%s" "$T"']\n    env: { T: "{{secrets.TOKEN}}" }\n  other:\n    description: not granted\n    run: ["true"]\n`,
    );
  }
  const grants = BACKENDS.map((b) => `      s-${b.name}:\n        secrets: { TOKEN: "${b.ref}" }\n        allow: [use]`).join('\n');
  e.writeConfig(`tenants:\n  acme:\n    projects: [${JSON.stringify(e.projects.acme)}]\n    services:\n${grants}\n  globex:\n    projects: [${JSON.stringify(e.projects.globex)}]\nstoreKey: file\n`);
  await e.setSecret('local:acme/token', VALUE);
});
afterAll(() => {
  vault?.close();
  if (keyring.ok) secretTool(['clear', ...KEYCHAIN_ITEM]);
  e?.cleanup();
});

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
const reset = () => {
  writeFileSync(probe, '');
  writeFileSync(calls, '');
};

describe.each(BACKENDS)('$name backend', (b) => {
  // The keychain needs a real Secret Service: skipped where none is reachable, a failure in CI.
  const run = b.keyring && !keyring.ok && !CI ? it.skip : it;
  const target = `s-${b.name}.use`;
  const denied: [string, string[], string?][] = [
    ['wrong tenant', ['exec', target, '--tenant', 'globex']],
    ['bad parameter', ['exec', target, '-p', 'n=99']],
    ['recipe not allowed', ['exec', `s-${b.name}.other`]],
    ['no tenant (outside every project)', ['exec', target], 'outside'],
    ['check of an allowed request', ['check', target]],
    ['dry run of an allowed request', ['exec', target, '--dry-run']],
  ];
  run.each(denied)('%s: the backend is never loaded and its CLI never runs', async (_what, args, where) => {
    if (b.keyring) requireKeyring();
    reset();
    const r = await e.cli(args, { env, cwd: where === 'outside' ? e.root : e.projects.acme });
    expect([0, 65, 77]).toContain(r.status);
    expect(read(probe)).toEqual([]);
    expect(read(calls)).toEqual([]);
  });

  run('an allowed request loads exactly this backend, reads once, and the output is redacted', async () => {
    if (b.keyring) requireKeyring();
    reset();
    const r = await e.cli(['exec', target], { env, cwd: e.projects.acme });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[REDACTED:TOKEN]');
    // The keychain backend loads its native binding as well as its own module.
    expect(read(probe)).toEqual(b.keyring ? [b.name, 'native-keyring'] : [b.name]);
    expect(read(calls)).toHaveLength(b.counted ? 1 : 0);
  });
});
