/**
 * vault:MOUNT/PATH#KEY against a local stand-in that speaks Vault's KV version 2 read API.
 *
 * The shapes it answers with are Vault's documented ones:
 * - Read secret version, GET /v1/:secret-mount-path/data/:path, answers
 *   { "data": { "data": { KEY: value, ... }, "metadata": { created_time, custom_metadata, deletion_time,
 *   destroyed, version } }, ... } (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2, "Read
 *   secret version"; the same in OpenBao's https://openbao.org/api-docs/secret/kv/kv-v2/). A deleted latest
 *   version answers 404 with data.data null and metadata.deletion_time set.
 * - Every failure is { "errors": [ ...strings ] } with the meaning in the status: 403 with
 *   ["permission denied"] for a token without the policy (or expired); 404 with [] for no secret at the
 *   path; 404 with ["no handler for route ..."] when nothing is mounted there; 503 when sealed (as
 *   summarised in the rustlavel-vault docs, https://docs.rs/crate/rustlavel-vault/0.6.0/source/src/error.rs,
 *   and hashicorp/vault#213 for 503; Vault's own API overview page was not in the searchable index).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBackend, parseVaultPath, vaultBackend } from '../../adapters/vault.js';
import { BackendError, Exit, UsageError } from '../../src/errors.js';
import { makeCtx, ref, secretValue } from '../store/helpers.js';

interface Seen {
  method: string;
  url: string;
  token: string | undefined;
  namespace: string | undefined;
}

/** A Vault with one KV v2 mount, "secret", holding what a test puts in it. */
class FakeVault {
  readonly token = `hvs.${secretValue('token')}`;
  readonly seen: Seen[] = [];
  /** "namespace|path-below-mount" → the secret's data, or "deleted". */
  readonly secrets = new Map<string, Record<string, unknown> | 'deleted'>();
  /** Answer with this status (and Vault's errors body) whatever is asked. */
  forceStatus: number | undefined;
  hang = false;
  server!: Server;
  addr = '';

  put(path: string, data: Record<string, unknown> | 'deleted', namespace = ''): void {
    this.secrets.set(`${namespace}|${path}`, data);
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const token = req.headers['x-vault-token'] as string | undefined;
    const namespace = req.headers['x-vault-namespace'] as string | undefined;
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', token, namespace });
    if (this.hang) return;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.forceStatus) return send(this.forceStatus, { errors: this.forceStatus === 503 ? ['Vault is sealed'] : ['error'] });
    if (req.method !== 'GET') return send(405, { errors: ['unsupported operation'] });
    if (token !== this.token) return send(403, { errors: ['permission denied'] });
    const m = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(req.url ?? '');
    if (!m || m[1] !== 'secret') {
      return send(404, { errors: [`no handler for route "${(req.url ?? '').replace(/^\/v1\//, '')}". route entry not found.`] });
    }
    const stored = this.secrets.get(`${namespace ?? ''}|${decodeURIComponent(m[2]!)}`);
    const meta = { created_time: '2026-01-01T00:00:00Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 1 };
    if (stored === undefined) return send(404, { errors: [] });
    if (stored === 'deleted') {
      return send(404, { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: { data: null, metadata: { ...meta, deletion_time: '2026-01-02T00:00:00Z', version: 2 } }, wrap_info: null, warnings: null, auth: null });
    }
    send(200, { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: { data: stored, metadata: meta }, wrap_info: null, warnings: null, auth: null });
  };

  async listen(server: Server, scheme: 'http' | 'https'): Promise<void> {
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.addr = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let dir: string;
let home: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-vault-'));
  // A HOME of its own, so the developer's real ~/.vault-token is never read.
  home = join(dir, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function backendFor(env: NodeJS.ProcessEnv, timeoutMs?: number) {
  const ctx = makeCtx(join(dir, 'state'), { env: { HOME: home, ...env } });
  return timeoutMs === undefined ? createBackend(ctx) : vaultBackend(ctx, { timeoutMs });
}

async function failure(p: Promise<unknown>, ...secrets: string[]): Promise<BackendError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a BackendError').toBeInstanceOf(BackendError);
  const e = err as BackendError;
  expect(e.exitCode).toBe(Exit.backendUnavailable);
  expect(e.backend).toBe('vault');
  for (const s of secrets) {
    expect(e.message).not.toContain(s);
    expect(e.next ?? '').not.toContain(s);
  }
  return e;
}

describe('vault references', () => {
  it('MOUNT is the first segment, KEY follows the last "#"', () => {
    expect(parseVaultPath(ref('vault:secret/acme/stripe#api_key'))).toEqual({ mount: 'secret', path: 'acme/stripe', key: 'api_key' });
    expect(parseVaultPath(ref('vault:kv/a#b/c#key'))).toEqual({ mount: 'kv', path: 'a#b/c', key: 'key' });
  });

  it.each(['vault:secret/acme', 'vault:secret/acme#', 'vault:secret#k', 'vault:secret//x#k', 'vault:secret/../sys/seal#k', 'vault:secret/a/./b#k'])(
    '%s is a usage error',
    async (raw) => {
      const err = await backendFor({ VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: 't' }).read(ref(raw)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect(err).toMatchObject({ code: 'bad_ref', exitCode: Exit.usage });
    },
  );

  it('is read-only', () => {
    const b = backendFor({});
    expect(b.write).toBeUndefined();
    expect(b.remove).toBeUndefined();
  });
});

describe('vault backend over HTTP', () => {
  const vault = new FakeVault();
  beforeAll(() => vault.listen(createHttpServer(vault.handle), 'http'));
  afterAll(() => vault.close());
  beforeEach(() => {
    vault.seen.length = 0;
    vault.secrets.clear();
    vault.forceStatus = undefined;
    vault.hang = false;
  });

  it('reads one key of a KV v2 secret with X-Vault-Token, and no namespace header unless asked', async () => {
    const v = secretValue('vault');
    vault.put('acme/stripe', { api_key: v, other: 'o' });
    const got = await backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/acme/stripe#api_key'));
    expect(got).toBe(v);
    expect(vault.seen).toEqual([{ method: 'GET', url: '/v1/secret/data/acme/stripe', token: vault.token, namespace: undefined }]);
  });

  it('encodes each path segment, and keeps a path prefix in VAULT_ADDR', async () => {
    vault.put('team a/x', { k: 'v' });
    await expect(backendFor({ VAULT_ADDR: `${vault.addr}/`, VAULT_TOKEN: vault.token }).read(ref('vault:secret/team a/x#k'))).resolves.toBe('v');
    expect(vault.seen[0]!.url).toBe('/v1/secret/data/team%20a/x');
    await backendFor({ VAULT_ADDR: `${vault.addr}/proxy/`, VAULT_TOKEN: vault.token }).read(ref('vault:secret/team a/x#k')).catch(() => undefined);
    expect(vault.seen[1]!.url).toBe('/proxy/v1/secret/data/team%20a/x');
  });

  it('takes the token from ~/.vault-token when VAULT_TOKEN is unset, and prefers VAULT_TOKEN', async () => {
    vault.put('app', { k: 'from-file' });
    writeFileSync(join(home, '.vault-token'), `${vault.token}\n`, { mode: 0o600 });
    await expect(backendFor({ VAULT_ADDR: vault.addr }).read(ref('vault:secret/app#k'))).resolves.toBe('from-file');
    expect(vault.seen[0]!.token).toBe(vault.token);

    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: 'hvs.other' }).read(ref('vault:secret/app#k')), 'hvs.other', vault.token);
    expect(err.code).toBe('vault_permission_denied');
    expect(vault.seen[1]!.token).toBe('hvs.other');
  });

  it('sends X-Vault-Namespace when VAULT_NAMESPACE is set', async () => {
    vault.put('app', { k: 'in-ns' }, 'admin/team-a');
    await expect(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, VAULT_NAMESPACE: 'admin/team-a' }).read(ref('vault:secret/app#k'))).resolves.toBe('in-ns');
    expect(vault.seen[0]!.namespace).toBe('admin/team-a');
  });

  it('403: permission denied, naming the API path and the policy it needs, without the token', async () => {
    vault.put('app', { k: secretValue() });
    const bad = `hvs.${secretValue('bad')}`;
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: bad }).read(ref('vault:secret/app#k')), bad, vault.token);
    expect(err.code).toBe('vault_permission_denied');
    expect(err.message).toContain('vault:secret/app#k');
    expect(err.message).toContain('permission denied');
    expect(err.message).toContain('secret/data/app');
    expect(err.message).toMatch(/expired/);
    expect(err.next).toContain('path "secret/data/app"');
  });

  it('404: no secret at the path (or not a KV v2 mount)', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/nope#k')), vault.token);
    expect(err.code).toBe('secret_not_found');
    expect(err.message).toContain('no secret at secret/nope');
    expect(err.message).toContain('KV version 2');
    expect(err.message).toContain('vault:secret/nope#k');
  });

  it('404 from an unknown mount says nothing is mounted there', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:kv/app#k')), vault.token);
    expect(err.code).toBe('secret_not_found');
    expect(err.message).toContain('no secrets engine is mounted at "kv"');
  });

  it('a deleted latest version is named as deleted', async () => {
    vault.put('old', 'deleted');
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/old#k')));
    expect(err.code).toBe('secret_not_found');
    expect(err.message).toContain('latest version of the secret at secret/old is deleted');
  });

  it('a missing key names the key and the keys there are, never their values', async () => {
    const v1 = secretValue('k1');
    const v2 = secretValue('k2');
    vault.put('app', { db_password: v1, token: v2 });
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#api_key')), v1, v2, vault.token);
    expect(err.code).toBe('secret_not_found');
    expect(err.message).toContain('has no key "api_key"');
    expect(err.message).toContain('db_password, token');
  });

  it('a value that is not a string is refused without showing it', async () => {
    vault.put('app', { port: 5432, nested: { inner: 'sk_live_nested_value' } });
    const e1 = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#port')), '5432');
    expect(e1.code).toBe('vault_bad_value');
    expect(e1.message).toContain('JSON number');
    const e2 = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#nested')), 'sk_live_nested_value');
    expect(e2.message).toContain('JSON object');
  });

  it('400 (what Vault answers plain HTTP sent to its TLS listener) points at the scheme', async () => {
    vault.forceStatus = 400;
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#k')), vault.token);
    expect(err.code).toBe('vault_bad_response');
    expect(err.message).toContain('HTTP 400');
    expect(err.next).toContain('https://');
  });

  it('503: sealed', async () => {
    vault.forceStatus = 503;
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#k')), vault.token);
    expect(err.code).toBe('vault_unavailable');
    expect(err.message).toContain('sealed');
  });

  it('a Vault that never answers ends at the timeout, naming VAULT_ADDR', async () => {
    vault.hang = true;
    const started = Date.now();
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }, 200).read(ref('vault:secret/app#k')), vault.token);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.code).toBe('backend_timeout');
    expect(err.message).toContain(vault.addr);
    expect(err.message).toContain('did not answer within 0.2 s');
  });
});

describe('vault backend before and around the request', () => {
  it('VAULT_ADDR unset', async () => {
    const err = await failure(backendFor({ VAULT_TOKEN: 'hvs.t0ken-not-shown' }).read(ref('vault:secret/app#k')), 'hvs.t0ken-not-shown');
    expect(err.code).toBe('vault_not_configured');
    expect(err.message).toContain('VAULT_ADDR is not set');
    expect(err.message).toContain('vault:secret/app#k');
  });

  it('VAULT_ADDR that is not a URL is not echoed (it may hold anything)', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: 'hvs.pasted-token-by-mistake', VAULT_TOKEN: 't' }).read(ref('vault:secret/app#k')), 'hvs.pasted-token-by-mistake');
    expect(err.code).toBe('vault_not_configured');
  });

  it('credentials in VAULT_ADDR are not shown', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: 'http://user:hunter2-secret@127.0.0.1:1', VAULT_TOKEN: 't' }).read(ref('vault:secret/app#k')), 'hunter2-secret');
    expect(err.message).toContain('http://127.0.0.1:1');
  });

  it('no token: VAULT_TOKEN unset and no ~/.vault-token', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: 'http://127.0.0.1:1' }).read(ref('vault:secret/app#k')));
    expect(err.code).toBe('vault_token_missing');
    expect(err.message).toContain('VAULT_TOKEN is not set');
    expect(err.message).toContain(join(home, '.vault-token'));
    expect(err.next).toContain('vault login');
  });

  it('connection refused names VAULT_ADDR and the OS reason', async () => {
    const s = createHttpServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const token = `hvs.${secretValue('t')}`;
    const err = await failure(backendFor({ VAULT_ADDR: `http://127.0.0.1:${port}`, VAULT_TOKEN: token }).read(ref('vault:secret/app#k')), token);
    expect(err.code).toBe('vault_unreachable');
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
    expect(err.message).toContain('VAULT_ADDR');
    expect(err.message).toContain('connection refused (ECONNREFUSED)');
    expect(err.message).toContain('vault:secret/app#k');
  });
});

describe('vault backend over HTTPS', () => {
  const vault = new FakeVault();
  let certFile: string;
  let certDir: string;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'outloop-vault-tls-'));
    certFile = join(certDir, 'cert.pem');
    const keyFile = join(certDir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', keyFile, '-out', certFile],
      { encoding: 'utf8' },
    );
    expect(made.status, `openssl failed: ${made.error?.message ?? made.stderr}`).toBe(0);
    await vault.listen(createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, vault.handle), 'https');
    vault.put('app', { k: 'over-tls' });
  });
  afterAll(async () => {
    await vault.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('works with VAULT_CACERT naming the CA', async () => {
    await expect(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, VAULT_CACERT: certFile }).read(ref('vault:secret/app#k'))).resolves.toBe('over-tls');
  });

  it('fails with a clear TLS message without it', async () => {
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }).read(ref('vault:secret/app#k')), vault.token, 'over-tls');
    expect(err.code).toBe('vault_tls');
    expect(err.message).toContain('TLS error');
    expect(err.message).toContain(vault.addr);
    expect(err.message).toContain('not signed by a CA outloop trusts');
    expect(err.next).toContain('VAULT_CACERT');
  });

  it('an unreadable VAULT_CACERT is named', async () => {
    const missing = join(certDir, 'nope.pem');
    const err = await failure(backendFor({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, VAULT_CACERT: missing }).read(ref('vault:secret/app#k')));
    expect(err.code).toBe('vault_not_configured');
    expect(err.message).toContain(missing);
  });
});
