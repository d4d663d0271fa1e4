/**
 * op, doppler and infisical backends against stand-in CLIs (test/backends/fakes/*) that reproduce each
 * vendor's documented argv, stdout and stderr. The broker environment handed to a backend is built here
 * from nothing, so a CLI that authenticates proves the environment and HOME reached it.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as doppler from '../../adapters/doppler.js';
import * as infisical from '../../adapters/infisical.js';
import * as op from '../../adapters/op.js';
import { BackendError, Exit, OutloopError, UsageError } from '../../src/errors.js';
import type { BackendContext, SecretBackend } from '../../src/secrets/backend.js';
import type { CliBackendOptions } from '../../src/secrets/cli-backend.js';
import { parseRef } from '../../src/secrets/ref.js';

const FAKES = join(dirname(fileURLToPath(import.meta.url)), 'fakes');
// The fakes start with `#!/usr/bin/env node`, so node must be on the PATH they are given.
const NODE_DIR = dirname(process.execPath);
const TOKEN = `tok_${Math.random().toString(36).slice(2)}`;
const WRONG_TOKEN = `tok_wrong_${Math.random().toString(36).slice(2)}`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

beforeAll(() => {
  for (const f of ['op', 'doppler', 'infisical']) chmodSync(join(FAKES, f), 0o755);
  // "Not installed" below relies on the real CLIs not sitting next to node.
  for (const f of ['op', 'doppler', 'infisical']) expect(existsSync(join(NODE_DIR, f))).toBe(false);
});

function secretValue(tag: string): string {
  return `sk_live_${tag}_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

interface Call {
  argv: string[];
  pid: number;
  updateCheckOff?: string | null;
}

interface Harness {
  env: NodeJS.ProcessEnv;
  home: string;
  calls(): Call[];
}

function harness(fixture: object, extraEnv: Record<string, string> = {}, path = [FAKES, NODE_DIR].join(delimiter)): Harness {
  const root = mkdtempSync(join(tmpdir(), 'outloop-vendor-cli-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const home = join(root, 'home');
  mkdirSync(home);
  const vault = join(root, 'vault.json');
  writeFileSync(vault, JSON.stringify(fixture));
  const log = join(root, 'calls.jsonl');
  return {
    env: { PATH: path, HOME: home, FAKE_VAULT_FILE: vault, FAKE_CALL_LOG: log, ...extraEnv },
    home,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Call)
        : [],
  };
}

function ctx(env: NodeJS.ProcessEnv): BackendContext {
  return { env, stateDir: '/nonexistent', storeFile: '/nonexistent/store.json', storeKeyFile: '/nonexistent/store.key', storeKey: 'file' };
}

async function rejection(p: Promise<unknown>): Promise<OutloopError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutloopError);
  return err as OutloopError;
}

async function backendFailure(p: Promise<unknown>, code: string): Promise<BackendError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(BackendError);
  expect(err.exitCode).toBe(Exit.backendUnavailable);
  expect(err.code).toBe(code);
  return err as BackendError;
}

/** Everything an error carries that could reach a person, an agent or the audit log. */
function surfaces(err: OutloopError): string {
  return [err.message, err.next ?? '', String(err.stack), JSON.stringify(err), JSON.stringify(Object.entries(err))].join('\n');
}

interface Case {
  name: 'op' | 'doppler' | 'infisical';
  make(ctx: BackendContext, options?: CliBackendOptions): SecretBackend;
  tokenVar: string;
  /** Under HOME, the file that stands in for an interactive login. */
  login: string[];
  ref: string;
  argv: string[];
  fixture(value: string): object;
  notFoundRef: string;
  scopeRef: string;
  signIn: string;
  install: string;
  tenantRef: { raw: string; argv: string[]; fixture(value: string): object };
}

const cases: Case[] = [
  {
    name: 'op',
    make: op.createBackendWith,
    tokenVar: 'OP_SERVICE_ACCOUNT_TOKEN',
    login: ['.config', 'op', 'config'],
    ref: 'op://Acme/Stripe/credential',
    argv: ['read', '--no-newline', 'op://Acme/Stripe/credential'],
    fixture: (value) => ({ serviceAccountToken: TOKEN, vaults: { Acme: { Stripe: { credential: value } } } }),
    notFoundRef: 'op://Acme/Nope/credential',
    scopeRef: 'op://Globex/Stripe/credential',
    signIn: 'run: op signin, or set OP_SERVICE_ACCOUNT_TOKEN',
    install: 'https://developer.1password.com/docs/cli/get-started/',
    tenantRef: {
      raw: 'op://{{tenant}}-vault/Stripe Key; $(touch pwned) "x"/credential',
      argv: ['read', '--no-newline', 'op://acme-vault/Stripe Key; $(touch pwned) "x"/credential'],
      fixture: (value) => ({ serviceAccountToken: TOKEN, vaults: { 'acme-vault': { 'Stripe Key; $(touch pwned) "x"': { credential: value } } } }),
    },
  },
  {
    name: 'doppler',
    make: doppler.createBackendWith,
    tokenVar: 'DOPPLER_TOKEN',
    login: ['.doppler', '.doppler.yaml'],
    ref: 'doppler:web/prd/STRIPE_KEY',
    argv: ['secrets', 'get', 'STRIPE_KEY', '--plain', '--project', 'web', '--config', 'prd'],
    fixture: (value) => ({ token: TOKEN, projects: { web: { prd: { STRIPE_KEY: value } } } }),
    notFoundRef: 'doppler:web/prd/NOPE',
    scopeRef: 'doppler:web/stg/STRIPE_KEY',
    signIn: 'run: doppler login, or set DOPPLER_TOKEN',
    install: 'https://docs.doppler.com/docs/install-cli',
    tenantRef: {
      raw: 'doppler:{{tenant}}-web/prd_$HOME/STRIPE_KEY',
      argv: ['secrets', 'get', 'STRIPE_KEY', '--plain', '--project', 'acme-web', '--config', 'prd_$HOME'],
      fixture: (value) => ({ token: TOKEN, projects: { 'acme-web': { prd_$HOME: { STRIPE_KEY: value } } } }),
    },
  },
  {
    name: 'infisical',
    make: infisical.createBackendWith,
    tokenVar: 'INFISICAL_TOKEN',
    login: ['.infisical', 'infisical-config.json'],
    ref: 'infisical:6f0c2a/prod/STRIPE_KEY',
    argv: ['secrets', 'get', 'STRIPE_KEY', '--plain', '--projectId', '6f0c2a', '--env', 'prod', '--path', '/'],
    fixture: (value) => ({ token: TOKEN, projects: { '6f0c2a': { prod: { '/': { STRIPE_KEY: value } } } } }),
    notFoundRef: 'infisical:6f0c2a/prod/NOPE',
    scopeRef: 'infisical:6f0c2a/staging/STRIPE_KEY',
    signIn: 'run: infisical login, or set INFISICAL_TOKEN',
    install: 'https://infisical.com/docs/cli/overview',
    tenantRef: {
      raw: 'infisical:6f0c2a/prod/{{tenant}} clients/`id`/STRIPE_KEY',
      argv: ['secrets', 'get', 'STRIPE_KEY', '--plain', '--projectId', '6f0c2a', '--env', 'prod', '--path', '/acme clients/`id`'],
      fixture: (value) => ({ token: TOKEN, projects: { '6f0c2a': { prod: { '/acme clients/`id`': { STRIPE_KEY: value } } } } }),
    },
  },
];

describe.each(cases)('$name backend through its CLI', (c) => {
  it('runs the documented command once and returns the value without the CLI newline', async () => {
    const value = secretValue(c.name);
    const h = harness(c.fixture(value), { [c.tokenVar]: TOKEN });
    const backend = c.make(ctx(h.env));
    expect(backend.name).toBe(c.name);
    expect(await backend.read(parseRef(c.ref))).toBe(value);
    expect(h.calls().map((call) => call.argv)).toEqual([c.argv]);
  });

  it('signs in the way the person did: the login under HOME, when no token is set', async () => {
    const value = secretValue(c.name);
    const h = harness(c.fixture(value));
    mkdirSync(join(h.home, ...c.login.slice(0, -1)), { recursive: true });
    writeFileSync(join(h.home, ...c.login), 'stand-in for a signed-in CLI\n');
    expect(await c.make(ctx(h.env)).read(parseRef(c.ref))).toBe(value);
  });

  it('not signed in: backend_auth naming the reference and how to sign in', async () => {
    const value = secretValue(c.name);
    const h = harness(c.fixture(value));
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.ref)), 'backend_auth');
    expect(err.backend).toBe(c.name);
    expect(err.message).toContain(c.ref);
    expect(err.next).toContain(c.signIn);
    expect(surfaces(err)).not.toContain(value);
  });

  it('a refused token: backend_auth, and neither token nor value in the error', async () => {
    const value = secretValue(c.name);
    // The CLI echoes the token and the value on stderr; outloop must not pass either on.
    const h = harness({ ...c.fixture(value), extraStderr: `token=${WRONG_TOKEN} value=${value}` }, { [c.tokenVar]: WRONG_TOKEN });
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.ref)), 'backend_auth');
    expect(err.message).toContain(c.ref);
    expect(surfaces(err)).not.toContain(WRONG_TOKEN);
    expect(surfaces(err)).not.toContain(value);
  });

  it('a missing item or secret: secret_not_found naming the reference', async () => {
    const value = secretValue(c.name);
    const h = harness(c.fixture(value), { [c.tokenVar]: TOKEN });
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.notFoundRef)), 'secret_not_found');
    expect(err.message).toContain(c.notFoundRef);
    expect(err.next).toContain('config.yaml');
    expect(h.calls()).toHaveLength(1);
  });

  it('a wrong vault, project, config or environment: backend_scope naming the reference', async () => {
    const value = secretValue(c.name);
    const h = harness(c.fixture(value), { [c.tokenVar]: TOKEN });
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.scopeRef)), 'backend_scope');
    expect(err.message).toContain(c.scopeRef);
  });

  it('a CLI that prints the value and the token, then fails, leaks neither', async () => {
    const value = secretValue(c.name);
    const h = harness(
      { ...c.fixture(value), stdoutBeforeFailure: `${value}\n`, extraStderr: `debug: value=${value} token=${TOKEN}` },
      { [c.tokenVar]: TOKEN },
    );
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.notFoundRef)), 'secret_not_found');
    expect(surfaces(err)).not.toContain(value);
    expect(surfaces(err)).not.toContain(TOKEN);
  });

  it('CLI not on PATH: backend_not_installed with the install hint', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'outloop-empty-path-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    const h = harness(c.fixture('unused'), { [c.tokenVar]: TOKEN }, [empty, NODE_DIR].join(delimiter));
    const err = await backendFailure(c.make(ctx(h.env)).read(parseRef(c.ref)), 'backend_not_installed');
    expect(err.message).toContain(`no "${c.name}" on PATH`);
    expect(err.message).toContain(c.ref);
    expect(err.next).toContain(c.install);
    expect(err.next).toContain(c.signIn);
    expect(h.calls()).toEqual([]);
  });

  it('a CLI that hangs is killed at the deadline: backend_timeout', async () => {
    const h = harness({ ...c.fixture('unused'), hang: true }, { [c.tokenVar]: TOKEN });
    const started = Date.now();
    const err = await backendFailure(c.make(ctx(h.env), { timeoutMs: 400 }).read(parseRef(c.ref)), 'backend_timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
    expect(err.message).toContain(c.ref);
    expect(err.message).toContain('0.4 s');
    const [call] = h.calls();
    expect(await gone(call!.pid)).toBe(true);
  });

  it('passes a reference with {{tenant}} expanded literally: no shell, no second expansion', async () => {
    const value = secretValue(c.name);
    const h = harness(c.tenantRef.fixture(value), { [c.tokenVar]: TOKEN });
    const ref = parseRef(c.tenantRef.raw, 'acme');
    expect(await c.make(ctx(h.env)).read(ref)).toBe(value);
    expect(h.calls().map((call) => call.argv)).toEqual([c.tenantRef.argv]);
    // Had a shell seen the reference, `$(touch pwned)` would have left a file behind in the cwd.
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
  });

  it('is read-only', () => {
    const backend = c.make(ctx({}));
    expect(backend.write).toBeUndefined();
    expect(backend.remove).toBeUndefined();
  });
});

describe('op specifics', () => {
  it('keeps a value that ends in a newline intact (op read --no-newline prints the field exactly)', async () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    const h = harness({ serviceAccountToken: TOKEN, vaults: { Ops: { deploy: { 'private key': pem } } } }, { OP_SERVICE_ACCOUNT_TOKEN: TOKEN });
    expect(await op.createBackend(ctx(h.env)).read(parseRef('op://Ops/deploy/private key'))).toBe(pem);
  });

  it('reads a field inside a section', async () => {
    const value = secretValue('section');
    const h = harness({ serviceAccountToken: TOKEN, vaults: { Acme: { Stripe: { live: { secret: value } } } } }, { OP_SERVICE_ACCOUNT_TOKEN: TOKEN });
    expect(await op.createBackend(ctx(h.env)).read(parseRef('op://Acme/Stripe/live/secret'))).toBe(value);
    expect(h.calls().map((c) => c.argv)).toEqual([['read', '--no-newline', 'op://Acme/Stripe/live/secret']]);
  });

  it('refuses a reference that is not op://VAULT/ITEM[/SECTION]/FIELD without running op', async () => {
    const h = harness({}, { OP_SERVICE_ACCOUNT_TOKEN: TOKEN });
    for (const raw of ['op://Acme/Stripe', 'op://a/b/c/d/e', 'op://Acme//credential']) {
      const err = await rejection(op.createBackend(ctx(h.env)).read(parseRef(raw)));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.code).toBe('bad_ref');
    }
    expect(h.calls()).toEqual([]);
  });

  it('a failure op words in a way outloop does not know: backend_unavailable, op\'s words left out', async () => {
    const secretish = secretValue('stderr');
    const h = harness(
      { serviceAccountToken: TOKEN, vaults: {}, failWith: `something new in op 3: ${secretish}` },
      { OP_SERVICE_ACCOUNT_TOKEN: TOKEN },
    );
    const err = await backendFailure(op.createBackend(ctx(h.env)).read(parseRef('op://Acme/Stripe Key/credential')), 'backend_unavailable');
    expect(err.message).toBe('op exited with status 1 while reading op://Acme/Stripe Key/credential');
    expect(err.next).toContain("op read --no-newline 'op://Acme/Stripe Key/credential' >/dev/null");
    expect(surfaces(err)).not.toContain(secretish);
    expect(surfaces(err)).not.toContain('something new');
  });
});

describe('doppler specifics', () => {
  it('strips exactly one newline: a value that ends in its own newline keeps it', async () => {
    const value = 'line one\nline two\n';
    const h = harness({ token: TOKEN, projects: { web: { prd: { CERT: value } } } }, { DOPPLER_TOKEN: TOKEN });
    expect(await doppler.createBackend(ctx(h.env)).read(parseRef('doppler:web/prd/CERT'))).toBe(value);
  });

  it('an empty value is not handed on as a credential', async () => {
    const h = harness({ token: TOKEN, projects: { web: { prd: { EMPTY: '' } } } }, { DOPPLER_TOKEN: TOKEN });
    const err = await backendFailure(doppler.createBackend(ctx(h.env)).read(parseRef('doppler:web/prd/EMPTY')), 'secret_not_found');
    expect(err.message).toContain('missing or empty');
  });

  it('refuses parts that doppler would read as flags, and wrong shapes, without running it', async () => {
    const h = harness({ token: TOKEN, projects: {} }, { DOPPLER_TOKEN: TOKEN });
    for (const raw of ['doppler:--project=evil/prd/KEY', 'doppler:web/-c/KEY', 'doppler:web/prd/--plain', 'doppler:web/KEY', 'doppler:a/b/c/d']) {
      const err = await rejection(doppler.createBackend(ctx(h.env)).read(parseRef(raw)));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.code).toBe('bad_ref');
      // The text may be a pasted value; the message gives the shape, not the text.
      expect(err.message).not.toContain('evil');
    }
    expect(h.calls()).toEqual([]);
  });
});

describe('infisical specifics', () => {
  it('turns the folders of the reference into --path', async () => {
    const value = secretValue('folder');
    const h = harness({ token: TOKEN, projects: { p1: { prod: { '/api/stripe': { STRIPE_KEY: value } } } } }, { INFISICAL_TOKEN: TOKEN });
    expect(await infisical.createBackend(ctx(h.env)).read(parseRef('infisical:p1/prod/api/stripe/STRIPE_KEY'))).toBe(value);
    expect(h.calls().map((c) => c.argv)).toEqual([
      ['secrets', 'get', 'STRIPE_KEY', '--plain', '--projectId', 'p1', '--env', 'prod', '--path', '/api/stripe'],
    ]);
  });

  it('a missing folder is backend_scope; a missing name (exit 0, nothing printed) is secret_not_found', async () => {
    const h = harness({ token: TOKEN, projects: { p1: { prod: { '/': { A: 'x' } } } } }, { INFISICAL_TOKEN: TOKEN });
    const backend = infisical.createBackend(ctx(h.env));
    await backendFailure(backend.read(parseRef('infisical:p1/prod/nope/A')), 'backend_scope');
    const err = await backendFailure(backend.read(parseRef('infisical:p1/prod/B')), 'secret_not_found');
    expect(err.message).toContain('no secret B in folder / of environment "prod" in project p1');
  });

  it('turns off the CLI update check unless the broker environment sets it', async () => {
    const h = harness({ token: TOKEN, projects: { p1: { prod: { '/': { A: 'x' } } } } }, { INFISICAL_TOKEN: TOKEN });
    await infisical.createBackend(ctx(h.env)).read(parseRef('infisical:p1/prod/A'));
    await infisical.createBackend(ctx({ ...h.env, INFISICAL_DISABLE_UPDATE_CHECK: 'false' })).read(parseRef('infisical:p1/prod/A'));
    expect(h.calls().map((c) => c.updateCheckOff)).toEqual(['true', 'false']);
  });
});

/** True once the process is gone (killed and reaped), polling briefly. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    // A killed child is a zombie until it is reaped; on Linux its state says so.
    if (zombie(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function zombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
