import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { handleRequest, type BrokerDeps, type BrokerOutcome } from '../../src/broker/exec.js';
import { resolveHomes } from '../../src/paths.js';
import { countingBackends } from '../core/helpers.js';
import { leakForms } from '../e2e/helpers.js';

/**
 * The recipe library's test harness. Each service has `test/recipes/<service>.cases.ts` exporting
 * `cases: RecipeCase[]`; library.test.ts runs every case for real: the built-in recipe file, the real
 * broker pipeline in process (config, policy, host gate, secrets from a counting registry, redactor,
 * audit), real curl, and a local HTTP server standing in for the vendor, reached only through the broker's
 * test-only redirect (BrokerDeps.testOnlyRedirect), never through anything a normal run honours.
 *
 * The server records exactly one request and the harness asserts it is the request the vendor documents:
 * method, path, the whole query, the whole body (JSON or form, parsed), and the listed headers (the
 * authentication header above all). The response is the vendor's documented example; outloop's stdout must
 * be those bytes unchanged, and no secret value may appear in stdout, stderr or the audit log.
 */
export interface RecipeCase {
  /** The action's name in `recipes/<service>.yaml` (e.g. "list-invoices"). */
  recipe: string;
  /** Tells several cases of one action apart in the test name. */
  name?: string;
  /** `-p k=v` as an agent would pass them: strings. */
  params?: Record<string, string>;
  /** The value bound to each secret the recipe needs (a realistic fake; use one no response contains). */
  secrets: Record<string, string>;
  expect: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    /** The raw path as sent (percent-encoding included), without the query. */
    path: string;
    /** The whole query; absent means the request has none. Repeated keys compare as arrays. */
    query?: Record<string, string | string[]>;
    /**
     * The whole body, parsed by the request's content-type: JSON (application/json) or a form
     * (application/x-www-form-urlencoded, values as strings, repeated keys as arrays). Absent: no body.
     */
    body?: unknown;
    /** Headers that must be present: exact text or a pattern. Names are case-insensitive. */
    headers: Record<string, string | RegExp>;
  };
  respond: {
    /** Defaults to 200. A status >= 400 expects curl --fail-with-body's exit 22 and the body still printed. */
    status?: number;
    /** The vendor's documented example response; sent as JSON unless it is a string. */
    body: unknown;
    headers?: Record<string, string>;
  };
  /** Extra origins to redirect besides https://<each exact host> of the recipe file. */
  origins?: string[];
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CaseRun {
  outcome: BrokerOutcome;
  seen: SeenRequest[];
  /** The exact bytes the stand-in server answered with. */
  sent: string;
  auditText: string;
  backendReads: number;
}

export const RECIPES_DIR = resolve('recipes');

/** Run one case through the broker for real; returns everything the assertions look at. */
export async function runCase(service: string, hosts: readonly string[], c: RecipeCase, recipesDir = RECIPES_DIR): Promise<CaseRun> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-recipes-')));
  const seen: SeenRequest[] = [];
  const sent = typeof c.respond.body === 'string' ? c.respond.body : JSON.stringify(c.respond.body);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(c.respond.status ?? 200, { 'content-type': 'application/json', ...c.respond.headers });
      res.end(sent);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const local = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const homes = resolveHomes({ OUTLOOP_HOME: join(root, 'home') });
    const project = join(root, 'project');
    mkdirSync(project, { recursive: true });
    mkdirSync(homes.recipesDir, { recursive: true });
    const refs = Object.fromEntries(Object.keys(c.secrets).map((n) => [n, `local:acme/${service}-${n}`]));
    writeFileSync(
      homes.configFile,
      `storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(project)}]\n    services:\n      ${service}:\n        secrets: ${JSON.stringify(refs)}\n        allow: ["*"]\n`,
    );
    const backends = countingBackends(Object.fromEntries(Object.entries(c.secrets).map(([n, v]) => [refs[n]!, v])));
    const origins = [...hosts.filter((h) => !h.includes('*')).map((h) => `https://${h}`), ...(c.origins ?? [])];
    const deps: BrokerDeps = {
      homes,
      env: { PATH: process.env.PATH, HOME: join(root, 'userhome'), OUTLOOP_HOME: join(root, 'home') },
      cwd: project,
      builtinRecipesDir: recipesDir,
      backends: backends.factory,
      output: 'collect',
      testOnlyRedirect: new Map(origins.map((o) => [o, local])),
    };
    const outcome = await handleRequest({ service, recipe: c.recipe, params: c.params ?? {}, mode: 'exec' }, deps);
    let auditText = '';
    try {
      auditText = readFileSync(homes.auditFile, 'utf8');
    } catch {
      /* no audit file is asserted on by the caller */
    }
    return { outcome, seen, sent, auditText, backendReads: backends.state.reads.length };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** Run one case and assert everything the library promises about it. */
export async function checkCase(service: string, hosts: readonly string[], c: RecipeCase, recipesDir = RECIPES_DIR): Promise<CaseRun> {
  const run = await runCase(service, hosts, c, recipesDir);
  const { outcome } = run;
  const what = `${service}.${c.recipe}${c.name ? ` (${c.name})` : ''}`;
  if (outcome.kind !== 'ran') throw new Error(`${what} did not run: ${JSON.stringify(outcome.kind === 'denied' ? outcome.decision : outcome.kind)}`);
  expect(run.seen.length, `${what}: requests the stand-in server saw`).toBe(1);
  const req = run.seen[0]!;
  const url = new URL(req.url, 'http://stand-in');
  expect(req.method, `${what}: method`).toBe(c.expect.method);
  expect(url.pathname, `${what}: path`).toBe(c.expect.path);
  expect(queryObject(url.searchParams), `${what}: query`).toEqual(c.expect.query ?? {});
  if (c.expect.body === undefined) expect(req.body.toString('utf8'), `${what}: body`).toBe('');
  else expect(parseBody(req), `${what}: body`).toEqual(c.expect.body);
  for (const [name, want] of Object.entries(c.expect.headers)) {
    const got = req.headers[name.toLowerCase()];
    const text = Array.isArray(got) ? got.join(', ') : got;
    if (want instanceof RegExp) expect(text, `${what}: header ${name}`).toMatch(want);
    else expect(text, `${what}: header ${name}`).toBe(want);
  }
  const failed = (c.respond.status ?? 200) >= 400;
  expect(outcome.exitCode, `${what}: exit code (stderr: ${outcome.stderr})`).toBe(failed ? 22 : 0);
  // The API's JSON, byte for byte: nothing added, nothing redacted.
  expect(outcome.stdout, `${what}: stdout`).toBe(run.sent);
  if (!failed) expect(outcome.stderr, `${what}: stderr`).toBe('');
  expect(outcome.redactions, `${what}: redactions`).toBe(0);
  expect(run.backendReads, `${what}: secrets read`).toBe(Object.keys(c.secrets).length);
  for (const [name, value] of Object.entries(c.secrets)) {
    for (const form of leakForms(value)) {
      const f = form.toString('latin1');
      expect(outcome.stdout.includes(f), `${what}: ${name} in stdout`).toBe(false);
      expect(outcome.stderr.includes(f), `${what}: ${name} in stderr`).toBe(false);
      expect(run.auditText.includes(f), `${what}: ${name} in the audit log`).toBe(false);
    }
  }
  return run;
}

function queryObject(sp: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(sp.keys())) {
    const all = sp.getAll(k);
    out[k] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

export function parseBody(req: SeenRequest): unknown {
  const type = String(req.headers['content-type'] ?? '');
  const text = req.body.toString('utf8');
  if (/^application\/(.+\+)?json\b/.test(type)) return JSON.parse(text) as unknown;
  if (type.startsWith('application/x-www-form-urlencoded')) return queryObject(new URLSearchParams(text));
  throw new Error(`the request body has content-type "${type}", which the harness cannot compare: ${text.slice(0, 200)}`);
}
