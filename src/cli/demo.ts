import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AuditLog, formatAuditTable, summarizeAttempts, verifyAuditFile } from '../audit/index.js';
import { existingChainKey } from '../audit/install.js';
import { handleRequest, type BrokerDeps, type BrokerRequest } from '../broker/exec.js';
import { Exit, OutloopError } from '../errors.js';
import { resolveHomes } from '../paths.js';
import { registryFor } from './deps.js';
import { findExecutable } from '../runner/which.js';
import type { CliOptions } from './main.js';
import { shellQuote } from './output.js';

/**
 * The main job, end to end, in a throwaway home: a generated token goes into the local store, a local
 * HTTP API demands it (and, like careless APIs do, echoes it back), real curl calls it through a recipe,
 * and the agent-side output shows it redacted. Nothing outside the temporary folder is touched.
 */
export async function demoCommand(opts: CliOptions): Promise<number> {
  if (!findExecutable('curl', process.env.PATH, process.cwd())) {
    throw new OutloopError('command_not_found', Exit.commandNotFound, 'the demo calls a local API with curl, which is not on PATH', { next: 'Install curl and run `outloop demo` again.' });
  }
  const root = mkdtempSync(join(tmpdir(), 'outloop-demo-'));
  const token = `demo_${randomBytes(18).toString('base64url')}`;
  const { server, port } = await startApi(token);
  const say = (s = '') => process.stdout.write(`${s}\n`);
  try {
    const home = join(root, 'home');
    const project = join(root, 'clients', 'acme-web');
    mkdirSync(join(home, 'recipes'), { recursive: true });
    mkdirSync(project, { recursive: true });
    writeFileSync(join(home, 'config.yaml'), `tenants:\n  acme:\n    projects: [${JSON.stringify(project)}]\n    services:\n      demo:\n        secrets: { DEMO_TOKEN: "local:acme/demo" }\n        allow: [list-invoices]\nstoreKey: file\n`);
    writeFileSync(join(home, 'recipes', 'demo.yaml'), demoRecipe(port));
    const homes = resolveHomes({ OUTLOOP_HOME: home });
    const deps: BrokerDeps = {
      homes,
      env: { PATH: process.env.PATH, LANG: process.env.LANG },
      cwd: project,
      builtinRecipesDir: join(opts.packageRoot, 'recipes'),
      output: 'collect',
      backends: (storeKey) => registryFor(homes, {}, storeKey),
    };
    const local = await deps.backends('file').get('local');
    await local.write!({ backend: 'local', path: 'acme/demo', raw: 'local:acme/demo' }, token);

    say(`Outloop demo, in a temporary home (${home}).`);
    say(`A local API on 127.0.0.1:${port} demands a bearer token. Outloop generated one and stored it,`);
    say('encrypted, as local:acme/demo. The project folder clients/acme-web is bound to tenant "acme".');
    const run = async (title: string, req: Omit<BrokerRequest, 'mode'>) => {
      say();
      say(`$ outloop exec ${req.service}.${req.recipe}${Object.entries(req.params).map(([k, v]) => ` -p ${shellQuote(`${k}=${v}`)}`).join('')}${req.assertedTenant ? ` --tenant ${req.assertedTenant}` : ''}   # ${title}`);
      try {
        const out = await handleRequest({ ...req, mode: 'exec' }, deps);
        if (out.kind === 'ran') {
          process.stdout.write(out.stdout);
          if (out.stderr) process.stdout.write(out.stderr);
          say(`-> exit ${out.exitCode}, ${out.redactions} redaction(s), audit ${out.auditId}`);
        } else if (out.kind === 'denied') {
          say(`outloop: denied: ${out.decision.reason} [${out.decision.code}]`);
          say(`-> exit ${out.exitCode}; the secret store was not opened`);
        }
      } catch (err) {
        const e = err as OutloopError;
        say(`outloop: ${e.message} [${e.code}]`);
      }
    };
    await run('the main job: the API echoes the token back, the agent sees it redacted', { service: 'demo', recipe: 'list-invoices', params: { limit: '2' } });
    await run('a skill copied from another client', { service: 'demo', recipe: 'list-invoices', params: {}, assertedTenant: 'globex' });
    await run('a parameter outside its rules', { service: 'demo', recipe: 'list-invoices', params: { limit: '5000' } });
    await run('an injection attempt stays one literal argument and is refused by its type', { service: 'demo', recipe: 'list-invoices', params: { limit: '1;cat /etc/passwd' } });

    say();
    say('$ outloop audit');
    say(formatAuditTable(summarizeAttempts(new AuditLog(homes.auditFile).readAll())).trimEnd());
    const v = verifyAuditFile(homes.auditFile, { chainKey: existingChainKey(homes.stateDir, homes.auditFile) });
    say(`$ outloop audit verify\n${v.ok ? `ok: ${v.records} records, hash chain intact` : `BROKEN: ${v.firstBad?.problem ?? v.tampered}`}`);
    say();
    say('Try it for real: `outloop init`, then `outloop secrets set local:<tenant>/<name>` and `outloop exec`.');
    return 0;
  } finally {
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function demoRecipe(port: number): string {
  return `service: demo
description: A local stand-in for a payments API
hosts: ["127.0.0.1:${port}"]
secrets: [DEMO_TOKEN]
recipes:
  list-invoices:
    description: List recent invoices
    risk: read
    params:
      limit: { type: integer, default: 3, min: 1, max: 10 }
    run: [curl, -sS, --fail-with-body, -K, -, "http://127.0.0.1:${port}/v1/invoices?limit={{params.limit}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.DEMO_TOKEN}}"
    timeout: 10s
`;
}

function startApi(token: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('{"error":{"message":"invalid or missing bearer token"}}\n');
      return;
    }
    const limit = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('limit') ?? 3);
    const data = Array.from({ length: limit }, (_, i) => ({ id: `in_${1001 + i}`, amount_due: 1200 * (i + 1), currency: 'usd' }));
    // Careless APIs echo credentials in debug fields; the agent must still never see the token.
    res.end(`${JSON.stringify({ object: 'list', data, debug: { authorization: req.headers.authorization } })}\n`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}
