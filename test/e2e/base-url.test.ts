import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, configYaml, type E2E, makeE2E, plantedSecret, startApi } from './helpers.js';

/**
 * A grant's `baseUrl` aims a built-in service elsewhere (a self-managed GitLab, GitHub Enterprise, here a
 * local fake) without copying its recipe file, and widens the hosts of that one grant only.
 */
describe('grant baseUrl', () => {
  let e: E2E;
  let api: Api;
  const token = plantedSecret('ghtoken');
  const probe = (port: number) => `service: probe
hosts: [api.example.test]
secrets: []
recipes:
  get:
    description: fetch a URL on the service's hosts
    risk: read
    params:
      url: { type: string, maxLength: 200 }
    run: [curl, -sS, "{{params.url}}"]
`;

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    api = await startApi([token]);
    e.writeRecipe('probe', probe(api.port));
    e.writeConfig(
      configYaml(e, {
        acme: `github:\n  secrets: { GITHUB_TOKEN: "local:acme/github" }\n  allow: ["*"]\n  baseUrl: http://127.0.0.1:${api.port}\nprobe:\n  allow: ["*"]`,
        globex: `github:\n  secrets: { GITHUB_TOKEN: "local:globex/github" }\n  allow: ["*"]\nprobe:\n  allow: ["*"]`,
      }),
    );
    await e.setSecret('local:acme/github', token);
  });
  afterAll(async () => {
    await api?.close();
    e?.cleanup();
  });

  it('the built-in github recipe runs against the override, with the token and redacted output', async () => {
    const before = api.seen.length;
    const r = await e.cli(['exec', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r', '--json']);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { exitCode: number; stdout: string };
    expect(j.exitCode).toBe(0);
    expect(j.stdout).toContain('Bearer [REDACTED:GITHUB_TOKEN]');
    expect(r.stdout).not.toContain(token);
    const seen = api.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toMatch(/^\/repos\/o\/r\/issues\?/);
    expect(seen[0]!.authorization).toBe(`Bearer ${token}`);
    const c = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r', '--json']);
    expect(JSON.parse(c.stdout).command.argv).toContain(`http://127.0.0.1:${api.port}/repos/o/r/issues`);
  });

  it('another tenant\'s grant, and the same tenant\'s other services, keep their own hosts', async () => {
    const url = `http://127.0.0.1:${api.port}/x`;
    const g = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r', '--json'], { cwd: e.projects.globex });
    expect(JSON.parse(g.stdout).command.argv).toContain('https://api.github.com/repos/o/r/issues');
    for (const cwd of [e.projects.acme, e.projects.globex]) {
      const p = await e.cli(['check', 'probe.get', '-p', `url=${url}`, '--json'], { cwd });
      expect(p.status).toBe(77);
      expect(JSON.parse(p.stdout).code).toBe('host_not_allowed');
    }
  });

  it('a baseUrl that would send the credential in clear to another machine is a config error', async () => {
    const bad = configYaml(e, { acme: 'github:\n  allow: ["*"]\n  baseUrl: http://gitlab.example.internal' });
    e.writeConfig(bad);
    const r = await e.cli(['check', 'github.list-issues', '-p', 'owner=o', '-p', 'repo=r']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('baseUrl');
    expect(r.stderr).toContain('https');
  });
});
