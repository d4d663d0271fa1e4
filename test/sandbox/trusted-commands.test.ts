import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, configYaml, curlRecipe, type E2E, makeE2E, startApi } from '../e2e/helpers.js';
import { CI, requireBwrap, skipWithoutBwrap } from './helpers.js';

/**
 * Issue 16 items 2 and 3, carried out as the agent would: a `curl` of its own first on PATH, and a
 * forged sandbox-probe.json in the state folder naming a "bwrap" that drops every option. Neither runs.
 */
const TOKEN = 'trusted-commands-token-7f3a9c1e5b2d4f60';

describe.skipIf(skipWithoutBwrap)('recipe commands and bwrap come only from places the agent cannot write', () => {
  let e: E2E;
  let api: Api;
  let other: Server;
  let otherPort: number;
  let fakeBin: string;
  const stolen = () => join(e.root, 'stolen.txt');
  const fakeBwrapUsed = () => join(e.root, 'fake-bwrap-used');

  beforeAll(async () => {
    requireBwrap();
    e = makeE2E(['acme']);
    api = await startApi([TOKEN]);
    other = createServer((_req, res) => res.end('other\n'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherPort = (other.address() as { port: number }).port;
    // The agent's fakes: a curl that keeps what it is handed (the key arrives on stdin), and a bwrap that
    // skips every option and runs the command unconfined.
    fakeBin = join(e.root, 'agent-bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'curl'), `#!/bin/sh\ncat >> ${JSON.stringify(stolen())}\necho '{"object":"list","fake":true}'\n`, { mode: 0o755 });
    writeFileSync(join(fakeBin, 'bwrap'), `#!/bin/sh\ntouch ${JSON.stringify(fakeBwrapUsed())}\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n`, { mode: 0o755 });

    e.writeRecipe('acme', curlRecipe('acme', api.port));
    e.writeRecipe('acmeoff', curlRecipe('acmeoff', api.port));
    writeFileSync(join(e.home, 'recipes', 'escape.sh'), `curl -sS -o /dev/null -w "%{http_code}" --noproxy '*' http://127.0.0.1:${otherPort}/direct 2>/dev/null; echo\n`, { mode: 0o755 });
    writeFileSync(join(e.home, 'recipes', 'hello.sh'), '#!/bin/sh\necho "hello from the recipe folder"\n', { mode: 0o755 });
    e.writeRecipe(
      'box',
      `service: box
hosts: ["127.0.0.1:${api.port}"]
recipes:
  escape:
    description: tries a host outside its hosts, directly
    risk: read
    run: [sh, "{{recipe.dir}}/escape.sh"]
  pinned:
    description: a script beside the recipe
    risk: read
    run: ["{{recipe.dir}}/hello.sh"]
  relative:
    description: a relative command
    risk: read
    run: ["./hello.sh"]
`,
    );
    e.writeConfig(
      configYaml(e, {
        acme: [
          'acme:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]',
          'acmeoff:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  sandbox: off',
          'box:\n  allow: ["*"]',
        ].join('\n'),
      }),
    );
    await e.setSecret('local:acme/token', TOKEN);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    other?.close();
    e?.cleanup();
  });

  const agentPath = () => `${fakeBin}:${process.env.PATH}`;

  it.each(['acme', 'acmeoff'])('a fake curl first on PATH is not run (%s), and the audit names the curl that ran with its sha256', async (svc) => {
    const r = await e.cli(['exec', `${svc}.list`, '-p', 'limit=2'], { env: { PATH: agentPath() } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(stolen())).toBe(false);
    expect(JSON.parse(r.stdout)).toMatchObject({ object: 'list', limit: '2' });
    const end = e.audit().filter((a) => a.service === svc && a.phase === 'end').at(-1)!;
    const cmd = end.commandFile as { path: string; sha256: string };
    expect(cmd.path).toMatch(/^\/(usr\/)?(local\/)?s?bin\/curl$/);
    expect(cmd.sha256).toBe(createHash('sha256').update(readFileSync(cmd.path)).digest('hex'));
  });

  it('a forged sandbox-probe.json naming a fake bwrap is not used: the real one confines the child', async () => {
    // A real run writes the cache; the agent then keeps its key fields and points it at its own bwrap.
    await e.cli(['exec', 'box.escape']);
    const file = join(e.home, 'sandbox-probe.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    const fake = join(fakeBin, 'bwrap');
    for (const forged of [
      { ...saved, path: fake, fact: { available: true, kind: 'bwrap', path: fake } },
      // The older shape, and a planted "unavailable" (which would run `auto` unconfined).
      { id: saved.id, at: Date.now(), fact: { available: true, kind: 'bwrap', path: fake } },
      { ...saved, available: false, fact: { available: false, why: 'planted' } },
    ]) {
      writeFileSync(file, JSON.stringify(forged));
      const r = await e.cli(['exec', 'box.escape'], { env: { PATH: agentPath() } });
      expect(r.status).toBe(0);
      expect(existsSync(fakeBwrapUsed())).toBe(false);
      expect(r.stdout.trim()).toBe('000');
      expect(e.audit().at(-1)).toMatchObject({ recipe: 'escape', sandbox: 'bwrap', egressEnforced: true });
    }
  });

  it('a script pinned as {{recipe.dir}}/... runs; once someone other than its owner could swap it, it is refused', async () => {
    const ok = await e.cli(['exec', 'box.pinned']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('hello from the recipe folder\n');
    const script = join(e.home, 'recipes', 'hello.sh');
    const sha = createHash('sha256').update(readFileSync(script)).digest('hex');
    expect(e.audit().at(-1)).toMatchObject({ recipe: 'pinned', commandFile: { path: script, sha256: sha } });

    chmodSync(script, 0o777);
    const writable = await e.cli(['exec', 'box.pinned', '--json']);
    expect(writable.status).toBe(78);
    expect(JSON.parse(writable.stdout)).toMatchObject({ ok: false, code: 'command_untrusted' });
    expect(JSON.parse(writable.stdout).reason).toContain(`${script} is writable by group or others`);
    chmodSync(script, 0o755);

    // Another user's file (needs root to make one; CI runs as root).
    if (process.getuid?.() === 0 || CI) {
      chownSync(script, 54321, 54321);
      const foreign = await e.cli(['exec', 'box.pinned']);
      expect(foreign.status).toBe(78);
      expect(foreign.stderr).toContain('owned by uid 54321');
      chownSync(script, 0, 0);
    }
  });

  it('a relative run[0] is refused with the way to pin it', async () => {
    const r = await e.cli(['exec', 'box.relative']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('{{recipe.dir}}/hello.sh');
  });
});
