import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, makeSandbox, type Sandbox } from '../helpers/cli.js';

/**
 * End-to-end helpers: a sandbox (temp OUTLOOP_HOME, one project folder per tenant, a private TMPDIR so
 * leftover run folders are attributable to this test) and the BUILT CLI spawned asynchronously, so a
 * node:http server living in the test process keeps answering while the CLI runs.
 */
export const PROBE = fileURLToPath(new URL('./fixtures/store-probe.mjs', import.meta.url));

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOpts {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Record store.json/store.key accesses of this run into the returned probe file. */
  probe?: string;
  timeoutMs?: number;
}

export interface Started {
  child: ChildProcess;
  done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
}

export interface E2E extends Sandbox {
  /** The CLI's own TMPDIR: run folders (outloop-run-*) are created here. */
  tmp: string;
  cli(args: string[], opts?: RunOpts): Promise<CliResult>;
  start(args: string[], opts?: RunOpts): Started;
  /** Store a value in the local store the way a person would: piped into `secrets set`. */
  setSecret(ref: string, value: string): Promise<void>;
  audit(): Record<string, unknown>[];
  runDirs(): string[];
}

export function makeE2E(tenants: string[] = ['acme', 'globex']): E2E {
  const sb = makeSandbox(tenants);
  const tmp = join(sb.root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  sb.env.TMPDIR = tmp;

  const start = (args: string[], o: RunOpts = {}): Started => {
    const env: NodeJS.ProcessEnv = { ...sb.env, ...o.env };
    if (o.probe) {
      env.NODE_OPTIONS = `--import=${PROBE}`;
      env.OUTLOOP_E2E_PROBE_LOG = o.probe;
    }
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? sb.projects[tenants[0]!] ?? sb.root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin!.on('error', () => {});
    child.stdin!.end(o.input ?? '');
    const killer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 25_000);
    const done = new Promise<CliResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (status, signal) => {
        clearTimeout(killer);
        resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
      });
    });
    return { child, done, stdout: () => stdout, stderr: () => stderr };
  };

  const e: E2E = {
    ...sb,
    tmp,
    start,
    cli: (args, o) => start(args, o).done,
    setSecret: async (ref, value) => {
      const r = await start(['secrets', 'set', ref], { input: value }).done;
      if (r.status !== 0) throw new Error(`secrets set ${ref} failed (${r.status}): ${r.stderr}`);
    },
    audit: () => readAuditLines(join(sb.home, 'audit.jsonl')),
    runDirs: () => readdirSync(tmp).filter((n) => n.startsWith('outloop-run-')),
  };
  return e;
}

export function readAuditLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A config.yaml binding each tenant's project folder; `services` is the YAML of each tenant's grants. */
export function configYaml(e: Sandbox, services: Record<string, string>, extra = 'storeKey: file\n'): string {
  const tenants = Object.entries(services)
    .map(([t, s]) => `  ${t}:\n    projects: [${JSON.stringify(e.projects[t])}]\n    services:\n${indent(s.trim(), 6)}\n`)
    .join('');
  return `${extra}tenants:\n${tenants}`;
}

/** The grant most tests start from: every built-in stripe recipe, the key at local:TENANT/stripe. */
export function stripeGrant(tenant: string): string {
  return `stripe:\n  secrets: { STRIPE_KEY: "local:${tenant}/stripe" }\n  allow: ["*"]`;
}

/** A sandbox whose tenant acme may run every stripe recipe, with `key` stored as its STRIPE_KEY. */
export async function makeStripeE2E(key: string): Promise<E2E> {
  const e = makeE2E();
  e.writeConfig(configYaml(e, { acme: stripeGrant('acme') }));
  await e.setSecret('local:acme/stripe', key);
  return e;
}

export function indent(s: string, n: number): string {
  return s
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');
}

/** A long value no real output would contain by chance. */
export function plantedSecret(tag = 'plant'): string {
  return `${tag}_${randomBytes(24).toString('hex')}`;
}

/** Every regular file below dir (following no symlinks). */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...walkFiles(p));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}

/** The encodings of a value that would still be a leak if found in a file. */
export function leakForms(secret: string): Buffer[] {
  const b = Buffer.from(secret, 'utf8');
  return [b, Buffer.from(b.toString('base64')), Buffer.from(b.toString('base64url')), Buffer.from(b.toString('hex'))];
}

export function filesContaining(dir: string, secret: string): string[] {
  const forms = leakForms(secret);
  return walkFiles(dir).filter((f) => {
    const bytes = readFileSync(f);
    return forms.some((form) => bytes.includes(form));
  });
}

/** process.kill(pid, 0) fails for a gone process; a zombie nobody reaped yet is gone too. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The store accesses a probed run made, as "op path". */
export function probeLines(file: string): string[] {
  return probeEntries(file).map((p) => `${p.op} ${p.path}`);
}

/** The store accesses with `lastAudit`: "phase:id" of the audit log's last record at that moment. */
export function probeEntries(file: string): { op: string; path: string; lastAudit: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [head, lastAudit = ''] = l.split('\t');
      const sp = head!.indexOf(' ');
      return { op: head!.slice(0, sp), path: head!.slice(sp + 1), lastAudit };
    });
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface Api {
  server: Server;
  port: number;
  host: string;
  /** Every request seen: path+query and its Authorization header. */
  seen: { url: string; authorization: string | undefined; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * A local API: demands `Authorization: Bearer <one of tokens>` (401 otherwise) and, like careless APIs,
 * echoes the header back in the body.
 */
export async function startApi(tokens: readonly string[]): Promise<Api> {
  const seen: Api['seen'] = [];
  const server = createServer((req, res) => {
    const authorization = req.headers.authorization;
    seen.push({ url: req.url ?? '', authorization, headers: req.headers });
    res.setHeader('content-type', 'application/json');
    const ok = tokens.some((t) => authorization === `Bearer ${t}`);
    if (!ok) {
      res.writeHead(401).end(`${JSON.stringify({ error: 'bad token', got: authorization ?? null })}\n`);
      return;
    }
    const limit = new URL(req.url ?? '/', 'http://x').searchParams.get('limit');
    res.end(`${JSON.stringify({ object: 'list', limit, debug: { authorization } })}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    host: `127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The contract's curl recipe, pointed at the local API. */
export function curlRecipe(service: string, port: number, secret = 'TOKEN'): string {
  return `service: ${service}
description: a local stand-in API
hosts: ["127.0.0.1:${port}"]
secrets: [${secret}]
recipes:
  list:
    description: List things
    risk: read
    params:
      limit: { type: integer, default: 10, min: 1, max: 100 }
    run: [curl, -sS, --fail-with-body, -K, -, "http://127.0.0.1:${port}/v1/x?limit={{params.limit}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.${secret}}}"
    timeout: 20s
`;
}
