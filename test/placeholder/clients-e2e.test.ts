import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { requireBwrap, skipWithoutBwrap } from '../sandbox/helpers.js';
import { GIT_HTTP_BACKEND, startGitServer } from './git-server.js';
import { ghToken, recipeFile, startTlsApi, type TlsApi } from './helpers.js';

/**
 * Real clients, unedited, through a placeholder run: git over HTTPS (clone and push with a token in the
 * URL, sent as Basic after the 401), Python requests, and curl inside the bubblewrap sandbox. Each server
 * checks the real credential.
 */
const CI = process.env.CI === 'true';
/** A python3 with requests: the one on PATH, else Debian's (.ci/run installs python3-requests there). */
const PYTHON = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0);

describe('placeholder runs with real clients', () => {
  const TOKEN = ghToken();
  let e: E2E;
  let api: TlsApi;
  let git: Awaited<ReturnType<typeof startGitServer>>;
  let project: string;
  let trust: string;

  beforeAll(async () => {
    e = makeE2E(['acme']);
    project = e.projects.acme!;
    api = await startTlsApi(e.root, TOKEN);
    if (!GIT_HTTP_BACKEND && CI) throw new Error('git http-backend is required in CI (apt-get install git)');
    git = await startGitServer(e.root, TOKEN);
    trust = join(e.root, 'trust.pem');
    writeFileSync(trust, readFileSync(api.caFile, 'utf8') + readFileSync(git.caFile, 'utf8'));
    e.writeRecipe('gh', recipeFile('gh', [`127.0.0.1:${api.port}`, `127.0.0.1:${git.port}`], 'TOKEN'));
    e.writeConfig(configYaml(e, {
      acme: [
        'gh:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true\n  placeholder: true',
        'boxed:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true\n  placeholder: true\n  sandbox: required',
      ].join('\n'),
    }));
    e.writeRecipe('boxed', recipeFile('boxed', [`127.0.0.1:${api.port}`], 'TOKEN'));
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(async () => {
    e?.cleanup();
    await api?.close();
    await git?.close();
  });
  const script = (name: string, lines: string[]) => {
    writeFileSync(join(project, name), lines.join('\n') + '\n');
    return name;
  };

  it('git clone and git push over HTTPS with the token in the URL', async () => {
    // The bare repository gets a first commit from the server side.
    const seed = join(e.root, 'seed');
    execFileSync('git', ['init', '-q', '-b', 'main', seed]);
    writeFileSync(join(seed, 'README'), 'hello\n');
    execFileSync('git', ['-C', seed, '-c', 'user.name=s', '-c', 'user.email=s@x', 'commit', '-qam', 'seed', '--allow-empty']);
    execFileSync('git', ['-C', seed, 'add', 'README']);
    execFileSync('git', ['-C', seed, '-c', 'user.name=s', '-c', 'user.email=s@x', 'commit', '-qm', 'readme']);
    execFileSync('git', ['-C', seed, 'push', '-q', join(git.root, 'repo.git'), 'main']);

    const s = script('git.sh', [
      'set -e',
      `git clone -q "https://x-access-token:$TOKEN@127.0.0.1:${git.port}/repo.git" work`,
      'cd work',
      'cat README',
      'echo change > CHANGE',
      'git add CHANGE',
      'git -c user.name=agent -c user.email=a@x commit -qm change',
      'git push -q origin main 2>&1',
      'echo pushed',
    ]);
    const r = await e.cli(['run', '--service', 'gh', '--', 'sh', s], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\npushed\n');
    expect(execFileSync('git', ['-C', join(git.root, 'repo.git'), 'log', '--format=%s', 'main'], { encoding: 'utf8' })).toBe('change\nreadme\nseed\n');
    const real = git.auths.filter((a) => a && Buffer.from(a.slice(6), 'base64').toString().endsWith(`:${TOKEN}`));
    expect(real.length).toBeGreaterThanOrEqual(2);
    // The clone's remote URL holds the sentinel, not the value.
    const remote = execFileSync('git', ['-C', join(project, 'work'), 'remote', 'get-url', 'origin'], { encoding: 'utf8' });
    expect(remote).not.toContain(TOKEN);
    expect(remote).toMatch(/x-access-token:ghp_[A-Za-z0-9]{36}@/);
    const end = e.audit().at(-1)!;
    expect(end.substitutions).toEqual(expect.arrayContaining([expect.objectContaining({ secret: 'TOKEN', host: '127.0.0.1', surface: 'basic' })]));
    expect(JSON.stringify(e.audit())).not.toContain(TOKEN);
  });

  it.skipIf(!PYTHON && !CI)('Python requests, Bearer and Basic', async () => {
    if (!PYTHON) throw new Error('python3 with requests is required in CI (apt-get install python3-requests)');
    writeFileSync(join(project, 'call.py'), [
      'import os, requests',
      't = os.environ["TOKEN"]',
      `r = requests.get("https://127.0.0.1:${api.port}/py", headers={"Authorization": "Bearer " + t})`,
      'print(r.status_code, r.json()["got"])',
      `r = requests.get("https://127.0.0.1:${api.port}/py-basic", auth=("user", t))`,
      'print(r.status_code)',
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'gh', '--', PYTHON!, 'call.py'], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200 Bearer [REDACTED:TOKEN]\n200\n');
    expect(api.seen.at(-2)).toMatchObject({ url: '/py', authorization: `Bearer ${TOKEN}` });
  });

  it.skipIf(skipWithoutBwrap)('inside the bubblewrap sandbox: curl reaches the API through the forwarder; the bundle is in the support folder', async () => {
    requireBwrap();
    const s = script('boxed.sh', [
      `curl -sS -H "Authorization: Bearer $TOKEN" https://127.0.0.1:${api.port}/boxed`,
      'printf "%s" "$TOKEN" > boxed-held.txt',
      'echo "ca=$CURL_CA_BUNDLE"',
    ]);
    const r = await e.cli(['run', '--service', 'boxed', '--', 'sh', s], { env: { NODE_EXTRA_CA_CERTS: trust } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"ok":true,"got":"Bearer [REDACTED:TOKEN]"}\nca=/run/outloop/ca-bundle.pem\n');
    expect(readFileSync(join(project, 'boxed-held.txt'), 'utf8')).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(e.audit().at(-1)).toMatchObject({ sandbox: 'bwrap', egressEnforced: true, placeholders: ['TOKEN'], substitutions: [{ secret: 'TOKEN', host: '127.0.0.1', surface: 'header', count: 1 }] });
  });
});
