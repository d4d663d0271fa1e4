/**
 * `vault:MOUNT/PATH#KEY` — one key of a HashiCorp Vault (or OpenBao) KV version 2 secret, read over HTTP
 * the way the `vault` CLI does: VAULT_ADDR, a token from VAULT_TOKEN or ~/.vault-token, VAULT_NAMESPACE,
 * VAULT_CACERT. Read-only: secrets are written with Vault's own tools, under Vault's own policies.
 *
 * MOUNT is the first path segment and KEY follows the last `#`; a mount whose own name has a `/` in it
 * cannot be named (the CLI finds such mounts with an extra sys/ call this path does not pay for).
 *
 * Messages are ours: nothing from Vault's answer (which could carry anything) and never the token. Vault's
 * own error strings travel in `cause` only.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { BackendError, InternalError, UsageError } from '../src/errors.js';
import type { BackendContext, BackendFactory, SecretBackend, SecretRef } from '../src/secrets/backend.js';

const NAME = 'vault';

/** Under the broker's 30 s cap on a read, so this message (which names VAULT_ADDR) is the one shown. */
export const VAULT_TIMEOUT_MS = 10_000;

/** A KV secret is small (Vault's default request limit is 32 MiB, real ones are kilobytes); a larger answer is not one. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface VaultPath {
  mount: string;
  /** Below the mount, without the `data/` KV v2 puts in front of it. */
  path: string;
  key: string;
}

/** MOUNT/PATH#KEY of a vault: reference. Throws UsageError for anything Vault could not mean. */
export function parseVaultPath(ref: SecretRef): VaultPath {
  const bad = (why: string) =>
    new UsageError(`secret reference "${ref.raw}" ${why}`, {
      code: 'bad_ref',
      next: 'Write it as vault:MOUNT/PATH#KEY, for example vault:secret/acme/stripe#api_key (KV v2 mount "secret", key "api_key").',
    });
  const hash = ref.path.lastIndexOf('#');
  if (hash < 0) throw bad('has no #KEY naming the key inside the secret');
  const key = ref.path.slice(hash + 1);
  const rest = ref.path.slice(0, hash);
  if (key.length === 0) throw bad('has an empty key after "#"');
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('must name a mount and a path (MOUNT/PATH)');
  const segments = rest.split('/');
  // An empty, "." or ".." segment would address some other Vault endpoint once a server normalises the URL.
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw bad('has an empty, "." or ".." path segment');
  return { mount: rest.slice(0, slash), path: rest.slice(slash + 1), key };
}

export interface VaultOptions {
  timeoutMs?: number;
}

export const createBackend: BackendFactory = (ctx) => vaultBackend(ctx);

/** The backend with its knobs exposed, for tests that cannot wait out the real timeout. */
export function vaultBackend(ctx: BackendContext, opts: VaultOptions = {}): SecretBackend {
  const timeoutMs = opts.timeoutMs ?? VAULT_TIMEOUT_MS;
  return {
    name: NAME,
    async read(ref: SecretRef): Promise<string> {
      if (ref.backend !== NAME) throw new InternalError(`vault backend asked for a ${ref.backend}: reference`);
      const item = parseVaultPath(ref);
      const server = vaultServer(ctx.env, ref);
      const token = vaultToken(ctx.env, ref);
      const namespace = headerValue(ctx.env.VAULT_NAMESPACE, 'VAULT_NAMESPACE', ref);
      const ca = vaultCa(ctx.env, ref);
      const url = new URL(server.base);
      url.pathname = `${server.base.pathname.replace(/\/+$/, '')}/v1/${encodePath(item.mount)}/data/${encodePath(item.path)}`;
      const headers: Record<string, string> = { 'X-Vault-Token': token, Accept: 'application/json' };
      if (namespace) headers['X-Vault-Namespace'] = namespace;

      let res: { status: number; body: Buffer };
      try {
        res = await get(url, headers, ca, timeoutMs);
      } catch (err) {
        throw transportError(err, ref, server, ca !== undefined, ctx.env.VAULT_CACERT, timeoutMs);
      }
      return answer(res, ref, item, server, namespace);
    },
  };
}

interface Server {
  base: URL;
  /** VAULT_ADDR without any user:password@ in it, for messages. */
  shown: string;
}

function vaultServer(env: NodeJS.ProcessEnv, ref: SecretRef): Server {
  const raw = env.VAULT_ADDR?.trim();
  if (!raw) {
    throw new BackendError(NAME, `VAULT_ADDR is not set, so there is no Vault to read ${ref.raw} from`, {
      code: 'vault_not_configured',
      next: 'Set VAULT_ADDR to your Vault server (for example https://vault.example.com:8200) in the environment outloop runs in.',
    });
  }
  let base: URL | undefined;
  try {
    base = new URL(raw);
  } catch {
    base = undefined;
  }
  if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
    // Not echoed: a mistyped variable may hold anything, a token included.
    throw new BackendError(NAME, `VAULT_ADDR is not an http:// or https:// URL (needed for ${ref.raw})`, {
      code: 'vault_not_configured',
      next: 'Set VAULT_ADDR to the server address, for example https://vault.example.com:8200.',
    });
  }
  const shown = `${base.protocol}//${base.host}${base.pathname === '/' ? '' : base.pathname}`;
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  return { base, shown };
}

function vaultToken(env: NodeJS.ProcessEnv, ref: SecretRef): string {
  const fromEnv = env.VAULT_TOKEN?.trim();
  if (fromEnv) return checkToken(fromEnv, 'VAULT_TOKEN', ref);
  const next = 'Log in with `vault login` (it writes ~/.vault-token), or set VAULT_TOKEN in the environment outloop runs in.';
  if (!env.HOME) {
    throw new BackendError(NAME, `no Vault token for ${ref.raw}: VAULT_TOKEN is not set, and HOME is not set either, so there is no ~/.vault-token to read`, {
      code: 'vault_token_missing',
      next,
    });
  }
  const file = join(env.HOME, '.vault-token');
  let text = '';
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new BackendError(NAME, `cannot read the Vault token file ${file} (needed for ${ref.raw})`, {
        code: 'vault_token_missing',
        cause: err,
        next: `Check that ${file} is readable by you, or set VAULT_TOKEN.`,
      });
    }
  }
  if (!text) {
    throw new BackendError(NAME, `no Vault token for ${ref.raw}: VAULT_TOKEN is not set and ${file} does not exist or is empty`, {
      code: 'vault_token_missing',
      next,
    });
  }
  return checkToken(text, file, ref);
}

/** A token that cannot go in a header would be refused by Node with its own message; ours names where it came from. */
function checkToken(token: string, from: string, ref: SecretRef): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new BackendError(NAME, `the Vault token from ${from} contains spaces or characters that cannot be sent (needed for ${ref.raw})`, {
      code: 'vault_token_invalid',
      next: `Put only the token in ${from} (for example from \`vault login -field=token\`).`,
    });
  }
  return token;
}

function headerValue(raw: string | undefined, name: string, ref: SecretRef): string | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  if (!/^[\x20-\x7e]+$/.test(v)) {
    throw new BackendError(NAME, `${name} contains characters that cannot be sent in an HTTP header (needed for ${ref.raw})`, {
      code: 'vault_not_configured',
      next: `Set ${name} to the namespace path, for example admin/team-a.`,
    });
  }
  return v;
}

function vaultCa(env: NodeJS.ProcessEnv, ref: SecretRef): Buffer | undefined {
  const file = env.VAULT_CACERT?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new BackendError(NAME, `cannot read VAULT_CACERT=${file} (needed for ${ref.raw})`, {
      code: 'vault_not_configured',
      cause: err,
      next: `Point VAULT_CACERT at the PEM file of the CA that signed Vault's certificate, or unset it to use the system CAs.`,
    });
  }
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

class VaultTimeout extends Error {}
class BodyTooLarge extends Error {}

/** One GET with a deadline over the whole exchange, connection to last byte. */
function get(url: URL, headers: Record<string, string>, ca: Buffer | undefined, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, value?: { status: number; body: Buffer }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          finish(new BodyTooLarge());
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(new Error('the connection closed before the whole answer arrived')));
    };
    // agent: false — a one-off connection, so no pooled keep-alive socket outlives the read.
    const opts = { method: 'GET', headers, agent: false as const };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...opts, ...(ca ? { ca } : {}) }, onResponse) : httpRequest(url, opts, onResponse);
    const timer = setTimeout(() => {
      finish(new VaultTimeout());
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(err));
    req.end();
  });
}

const NET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
};

const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

function transportError(err: unknown, ref: SecretRef, server: Server, haveCa: boolean, caFile: string | undefined, timeoutMs: number): BackendError {
  const at = `Vault at ${server.shown} (VAULT_ADDR)`;
  if (err instanceof VaultTimeout) {
    return new BackendError(NAME, `${at} did not answer within ${timeoutMs / 1000} s for ${ref.raw}`, {
      code: 'backend_timeout',
      next: 'Check that Vault is up and reachable from here (`vault status`), then retry.',
    });
  }
  if (err instanceof BodyTooLarge) {
    return new BackendError(NAME, `${at} sent more than ${MAX_BODY_BYTES / 1024 / 1024} MiB for ${ref.raw}, which is no KV secret`, {
      code: 'vault_bad_response',
      next: 'Check that VAULT_ADDR points at Vault itself and not at another service.',
    });
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (UNTRUSTED_CERT.has(code)) {
    return new BackendError(NAME, `TLS error talking to ${at} for ${ref.raw}: its certificate is not signed by a CA outloop trusts (${code})`, {
      code: 'vault_tls',
      cause: err,
      next: haveCa
        ? `VAULT_CACERT=${caFile} is not the CA that signed Vault's certificate; point it at the right PEM file.`
        : "Set VAULT_CACERT to the PEM file of the CA that signed Vault's certificate.",
    });
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new BackendError(NAME, `TLS error talking to ${at} for ${ref.raw}: its certificate is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'} (${code})`, {
      code: 'vault_tls',
      cause: err,
      next: "Renew Vault's certificate (or check this machine's clock), then retry.",
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new BackendError(NAME, `TLS error talking to ${at} for ${ref.raw}: its certificate is not valid for host ${server.base.hostname} (${code})`, {
      code: 'vault_tls',
      cause: err,
      next: "Use the host name in Vault's certificate in VAULT_ADDR.",
    });
  }
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return new BackendError(NAME, `TLS error talking to ${at} for ${ref.raw}: the handshake failed (${code})`, {
      code: 'vault_tls',
      cause: err,
      next: 'Check the scheme in VAULT_ADDR: https:// for a TLS listener, http:// for a plain one.',
    });
  }
  const reason = NET_REASONS[code] ?? 'the request failed';
  return new BackendError(NAME, `cannot reach ${at} for ${ref.raw}: ${reason}${code ? ` (${code})` : ''}`, {
    code: 'vault_unreachable',
    cause: err,
    next: 'Check that Vault is running and VAULT_ADDR is right (`vault status`), then retry.',
  });
}

interface VaultBody {
  errors?: unknown;
  data?: unknown;
}

function answer(res: { status: number; body: Buffer }, ref: SecretRef, item: VaultPath, server: Server, namespace: string | undefined): string {
  const at = `Vault at ${server.shown}`;
  const where = `${item.mount}/${item.path}${namespace ? ` in namespace "${namespace}"` : ''}`;
  const apiPath = `${item.mount}/data/${item.path}`;
  let body: VaultBody | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    body = isRecord(parsed) ? parsed : undefined;
  } catch {
    // The parser's message quotes the text around the fault; keep it out.
    body = undefined;
  }
  const vaultErrors = Array.isArray(body?.errors) ? body.errors.filter((e): e is string => typeof e === 'string') : [];
  const cause = vaultErrors.length ? new Error(`Vault said: ${vaultErrors.join('; ')}`) : undefined;
  const data = isRecord(body?.data) ? body.data : undefined;
  const metadata = isRecord(data?.metadata) ? data.metadata : undefined;

  if (res.status === 200 || res.status === 404) {
    // A deleted or destroyed latest version comes back as 404 (some versions: 200) with data.data null.
    if (data && data.data === null && metadata && (metadata.destroyed === true || (typeof metadata.deletion_time === 'string' && metadata.deletion_time !== ''))) {
      return fail(`the latest version of the secret at ${where} is ${metadata.destroyed === true ? 'destroyed' : 'deleted'} (needed for ${ref.raw})`, 'secret_not_found', `Restore it with \`vault kv undelete -mount=${item.mount} -versions=N ${item.path}\`, or write a new version.`, cause);
    }
  }
  if (res.status === 404) {
    if (vaultErrors.some((e) => e.includes('no handler for route'))) {
      return fail(`no secrets engine is mounted at "${item.mount}" in ${at}${namespace ? ` (namespace "${namespace}")` : ''} (needed for ${ref.raw})`, 'secret_not_found', 'Check the mount name with `vault secrets list`; the first segment of a vault: reference is the mount.', cause);
    }
    return fail(`no secret at ${where} in ${at}, or "${item.mount}" is not a KV version 2 mount (needed for ${ref.raw})`, 'secret_not_found', `Check it with \`vault kv get -mount=${item.mount} ${item.path}\`; outloop reads KV version 2 mounts only.`, cause);
  }
  if (res.status === 403 || res.status === 401) {
    return fail(`${at} denied reading ${apiPath}${namespace ? ` in namespace "${namespace}"` : ''} for ${ref.raw} (permission denied): the token has no policy allowing read on that path, or it has expired or been revoked`, 'vault_permission_denied', `Check the token with \`vault token lookup\` (log in again with \`vault login\` if it expired); it needs a policy with path "${apiPath}" { capabilities = ["read"] }.`, cause);
  }
  if (res.status === 503) {
    return fail(`${at} is sealed or not ready (HTTP 503) for ${ref.raw}`, 'vault_unavailable', 'Unseal Vault or wait for it to become active (`vault status`), then retry.', cause);
  }
  if (res.status >= 300 && res.status < 400) {
    return fail(`${at} answered with a redirect (HTTP ${res.status}) for ${ref.raw}; outloop does not send the token on to another address`, 'vault_bad_response', 'Set VAULT_ADDR to the active Vault node (or the load balancer) directly.', cause);
  }
  if (res.status === 400) {
    return fail(`${at} rejected the request for ${ref.raw} (HTTP 400)`, 'vault_bad_response', 'Check VAULT_ADDR: a server that speaks TLS needs https://, and the reference must be vault:MOUNT/PATH#KEY.', cause);
  }
  if (res.status !== 200) {
    return fail(`${at} answered HTTP ${res.status} for ${ref.raw}`, res.status >= 500 || res.status === 429 || res.status === 412 ? 'vault_unavailable' : 'vault_bad_response', 'Retry; if it persists, check the Vault server logs.', cause);
  }

  const secret = data && isRecord(data.data) ? data.data : undefined;
  if (!secret) {
    return fail(`${at} answered for ${where} with something other than a KV version 2 secret (needed for ${ref.raw})`, 'vault_bad_response', `Check that "${item.mount}" is a KV version 2 mount (\`vault secrets list -detailed\`) and that VAULT_ADDR points at Vault.`, cause);
  }
  if (!Object.prototype.hasOwnProperty.call(secret, item.key)) {
    const keys = Object.keys(secret).sort();
    const listed = keys.length === 0 ? 'it has no keys' : `its keys: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}`;
    return fail(`the secret at ${where} has no key "${item.key}" (${listed}) (needed for ${ref.raw})`, 'secret_not_found', `Use one of its keys after "#", or add it with \`vault kv patch -mount=${item.mount} ${item.path} ${item.key}=-\`.`, cause);
  }
  const value = secret[item.key];
  if (typeof value !== 'string') {
    return fail(`the key "${item.key}" of the secret at ${where} holds a JSON ${jsonType(value)}, not a string (needed for ${ref.raw})`, 'vault_bad_value', 'Store the credential as a string value in Vault.', cause);
  }
  if (value.length === 0) {
    // An empty credential would reach the child as one that is silently wrong.
    return fail(`the key "${item.key}" of the secret at ${where} is empty (needed for ${ref.raw})`, 'secret_empty', 'Store the credential in Vault, then retry.', cause);
  }
  return value;
}

function fail(message: string, code: string, next: string, cause: Error | undefined): never {
  throw new BackendError(NAME, message, cause ? { code, next, cause } : { code, next });
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
