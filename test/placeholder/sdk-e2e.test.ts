import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { ghToken, recipeFile, startTlsApi, type TlsApi } from './helpers.js';

/**
 * Node clients, unedited: global fetch, the official Stripe SDK and Octokit, each pointed at the local
 * HTTPS API (as their options allow) and given the credential from the environment, through a
 * placeholder run. Node's fetch and https ignore HTTPS_PROXY; outloop's preload (node-proxy.ts) routes
 * fetch and every https.Agent through the proxy, on every release. scripts/node-versions.sh runs this on
 * Node 22 and 24 too: with node's own NODE_USE_ENV_PROXY, Stripe's agent connected directly on 24 (the
 * service saw the sentinel) and 22 printed an "experimental" warning on every child's stderr.
 */
const REPO = resolve(import.meta.dirname, '../..');

describe('placeholder runs with Node fetch, Stripe and Octokit', () => {
  const GH = ghToken();
  const SK = `sk_test_${ghToken().slice(4, 28)}`;
  let e: E2E;
  let gh: TlsApi;
  let stripe: TlsApi;
  let project: string;
  let trust: string;

  beforeAll(async () => {
    e = makeE2E(['acme']);
    project = e.projects.acme!;
    gh = await startTlsApi(e.root, GH, (req, res) => {
      if (req.url === '/user' && req.headers.authorization?.endsWith(GH)) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ login: 'octocat', id: 1, echoed: req.headers.authorization }));
        return true;
      }
      return false;
    });
    stripe = await startTlsApi(e.root, SK, (req, res) => {
      if (req.url?.startsWith('/v1/customers/cus_1') && req.headers.authorization === `Bearer ${SK}`) {
        res.setHeader('content-type', 'application/json');
        res.setHeader('request-id', 'req_1');
        res.end(JSON.stringify({ id: 'cus_1', object: 'customer', description: `key ${SK}` }));
        return true;
      }
      return false;
    });
    trust = join(e.root, 'trust.pem');
    const { readFileSync } = await import('node:fs');
    writeFileSync(trust, readFileSync(gh.caFile, 'utf8') + readFileSync(stripe.caFile, 'utf8'));
    e.writeRecipe('github', recipeFile('github', [`127.0.0.1:${gh.port}`], 'GITHUB_TOKEN'));
    e.writeRecipe('stripe', recipeFile('stripe', [`127.0.0.1:${stripe.port}`], 'STRIPE_KEY'));
    e.writeConfig(configYaml(e, {
      acme: [
        'github:\n  secrets: { GITHUB_TOKEN: "local:acme/gh" }\n  run: true\n  placeholder: true',
        'stripe:\n  secrets: { STRIPE_KEY: "local:acme/sk" }\n  run: true\n  placeholder: true',
      ].join('\n'),
    }));
    await e.setSecret('local:acme/gh', GH);
    await e.setSecret('local:acme/sk', SK);
  });
  afterAll(async () => {
    e?.cleanup();
    await gh?.close();
    await stripe?.close();
  });
  const node = (name: string, src: string) => {
    writeFileSync(join(project, name), `import { createRequire } from 'node:module';\nconst require = createRequire(${JSON.stringify(join(REPO, 'package.json'))});\n${src}\n`);
    return ['node', name];
  };

  it('global fetch with a Bearer header', async () => {
    const cmd = node('fetch.mjs', `const r = await fetch('https://127.0.0.1:${gh.port}/f', { headers: { authorization: 'Bearer ' + process.env.GITHUB_TOKEN } });\nconsole.log(r.status, (await r.json()).got);`);
    const r = await e.cli(['run', '--service', 'github', '--', ...cmd], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200 Bearer [REDACTED:GITHUB_TOKEN]\n');
    expect(gh.seen.at(-1)).toMatchObject({ url: '/f', authorization: `Bearer ${GH}` });
  });

  it('Octokit (@octokit/rest) users.getAuthenticated', async () => {
    const cmd = node('octo.mjs', [
      `const { Octokit } = await import(require.resolve('@octokit/rest'));`,
      `const o = new Octokit({ auth: process.env.GITHUB_TOKEN, baseUrl: 'https://127.0.0.1:${gh.port}' });`,
      'const { data } = await o.rest.users.getAuthenticated();',
      'console.log(data.login, data.echoed);',
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'github', '--', ...cmd], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^octocat (token|Bearer) \[REDACTED:GITHUB_TOKEN\]\n$/);
    expect(gh.seen.at(-1)!.authorization).toMatch(new RegExp(`^(token|Bearer) ${GH}$`));
  });

  it('the Stripe SDK customers.retrieve', async () => {
    const cmd = node('stripe.mjs', [
      `const Stripe = require('stripe');`,
      `const s = new Stripe(process.env.STRIPE_KEY, { host: '127.0.0.1', port: ${stripe.port}, protocol: 'https', maxNetworkRetries: 0 });`,
      `const c = await s.customers.retrieve('cus_1');`,
      'console.log(c.id, c.description);',
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'stripe', '--', ...cmd], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('cus_1 key [REDACTED:STRIPE_KEY]\n');
    expect(stripe.seen.at(-1)).toMatchObject({ url: '/v1/customers/cus_1', authorization: `Bearer ${SK}` });
    expect(e.audit().at(-1)!.substitutions).toEqual([{ secret: 'STRIPE_KEY', host: '127.0.0.1', surface: 'header', count: 1 }]);
  });
});
