import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport, Finding } from '../../src/cli/doctor.js';
import { configYaml, type E2E, makeE2E, probeLines } from '../e2e/helpers.js';

/**
 * `outloop doctor` through the built CLI: what the project binds to, whether each backend of the tenant's
 * grants answers, and what is unsafe, all without reading a secret value (the store probe watches the
 * key file).
 */
const GITHUB_VALUE = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const NAMED_VALUE = 'plain-but-secret-value-42';
const STORED = 'doctor-stored-value-0123456789';

describe('outloop doctor', () => {
  let e: E2E;
  let vault: Server;
  let vaultPort: number;
  const vaultSeen: IncomingHttpHeaders[] = [];
  let bin: string;
  const report = (stdout: string) => JSON.parse(stdout) as DoctorReport;
  const find = (r: DoctorReport, check: string, severity?: Finding['severity']) => r.findings.filter((f) => f.check === check && (!severity || f.severity === severity));

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    e.writeRecipe('dt', 'service: dt\nsecrets: [TOKEN]\nrecipes:\n  get:\n    description: print the token\n    risk: read\n    run: [sh, -c, \'echo "$T"\']\n    env: { T: "{{secrets.TOKEN}}" }\n');
    e.writeConfig(
      configYaml(e, {
        acme: 'dt:\n  secrets: { TOKEN: "local:acme/token", MISSING: "local:acme/missing" }\n  allow: [get]',
        globex: [
          'dt:\n  secrets: { TOKEN: "env:CI_TOKEN" }\n  allow: ["*"]',
          'one:\n  secrets: { P: "op://Vault/Item/field" }',
          'dop:\n  secrets: { D: "doppler:proj/dev/D" }',
          'vlt:\n  secrets: { V: "vault:secret/app#key" }',
        ].join('\n'),
      }),
    );
    await e.setSecret('local:acme/token', STORED);
    // Independent of the umask this runs under: only the permission test loosens them.
    for (const d of [e.home, join(e.home, 'recipes')]) chmodSync(d, 0o700);
    bin = join(e.root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'op'), '#!/bin/sh\necho 2.30.0\n', { mode: 0o755 });
    // Installed but broken: doctor must say it does not answer.
    writeFileSync(join(bin, 'doppler'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    vault = createServer((req, res) => {
      vaultSeen.push(req.headers);
      res.writeHead(req.url === '/v1/sys/health' ? 200 : 404, { 'content-type': 'application/json' }).end('{"initialized":true,"sealed":false}');
    });
    await new Promise<void>((r) => vault.listen(0, '127.0.0.1', r));
    vaultPort = (vault.address() as { port: number }).port;
  });
  beforeEach(() => {
    for (const p of ['.env', 'sub', 'node_modules', 'a', '.env.example']) rmSync(join(e.projects.acme!, p), { recursive: true, force: true });
    chmodSync(join(e.home, 'store.key'), 0o600);
    chmodSync(join(e.home, 'config.yaml'), 0o600);
  });
  afterAll(async () => {
    await new Promise<void>((r) => vault?.close(() => r()));
    e?.cleanup();
  });

  it('a clean project: tenant and config named, the local backend answers, exit 0', async () => {
    const r = await e.cli(['doctor']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ok    tenant: acme (project ${e.projects.acme})`);
    expect(r.stdout).toContain(`ok    config: ${join(e.home, 'config.yaml')}`);
    // A key file with no keyring on the machine is said plainly, not "ok" (issue 17 item 7).
    expect(r.stdout).toMatch(/warn  local: store .*store\.json answers: key in the file .*store\.key \(mode 600\), as no OS keychain answers here: other users cannot read it, but any program running as you \(an agent with a shell\) can read the store and its key/);
    expect(r.stdout).toContain('use system mode (outloop system install)');
    expect(r.stdout).toContain('warn  local: no value stored for local:acme/missing (used by dt.MISSING)');
    expect(r.stdout).toContain('fix: printf %s "$VALUE" | outloop secrets set local:acme/missing');
    expect(r.stdout).toContain('ok    no credential-like environment variables');
    expect(r.stdout).toMatch(/0 fail, \d+ warn, \d+ ok\n$/);
  });

  it('probes every backend of the grants without reading a value, and never sends the Vault token', async () => {
    const r = await e.cli(['doctor', '--json'], {
      cwd: e.projects.globex,
      env: { PATH: `${bin}:${process.env.PATH}`, CI_TOKEN: NAMED_VALUE, VAULT_ADDR: `http://127.0.0.1:${vaultPort}`, VAULT_TOKEN: 'hvs.doctor-test-token' },
    });
    const rep = report(r.stdout);
    expect(rep.tenant).toBe('globex');
    expect(rep.backends.map((b) => b.backend)).toEqual(['doppler', 'env', 'op', 'vault']);
    expect(find(rep, 'backend.env', 'ok')[0]!.message).toBe('env: CI_TOKEN is set (used by dt.TOKEN)');
    expect(find(rep, 'backend.op', 'ok')[0]!.message).toBe(`op: op CLI 2.30.0 at ${join(bin, 'op')} (used by one.P)`);
    expect(find(rep, 'backend.doppler', 'fail')[0]!.message).toContain('--version did not answer');
    expect(find(rep, 'backend.vault', 'ok')[0]!.message).toBe(`vault: http://127.0.0.1:${vaultPort} answers (active) (used by vlt.V)`);
    expect(vaultSeen.length).toBeGreaterThan(0);
    for (const h of vaultSeen) expect(h['x-vault-token']).toBeUndefined();
    // The ambient variables are named, never shown.
    expect(find(rep, 'env.name').map((f) => f.message)).toEqual([expect.stringContaining('CI_TOKEN'), expect.stringContaining('VAULT_TOKEN')]);
    expect(r.stdout).not.toContain(NAMED_VALUE);
    expect(r.stdout).not.toContain('hvs.doctor-test-token');
    expect(r.status).toBe(1);
    expect(rep.ok).toBe(false);
  });

  it('an unreachable Vault and a missing CLI fail with a fix', async () => {
    const r = await e.cli(['doctor', '--json'], { cwd: e.projects.globex, env: { PATH: '/nonexistent', VAULT_ADDR: 'http://127.0.0.1:1' } });
    const rep = report(r.stdout);
    expect(find(rep, 'backend.op', 'fail')[0]!.message).toContain('the op CLI is not on PATH');
    expect(find(rep, 'backend.op', 'fail')[0]!.fix).toContain('1password');
    expect(find(rep, 'backend.vault', 'fail').map((f) => f.message)).toEqual([expect.stringContaining('no token'), expect.stringContaining('is not reachable')]);
    expect(find(rep, 'backend.env', 'warn')[0]!.message).toBe('env: CI_TOKEN is not set here (used by dt.TOKEN)');
    expect(r.status).toBe(1);
  });

  it('flags a planted .env and a GITHUB_TOKEN by name, never printing the value', async () => {
    const p = e.projects.acme!;
    writeFileSync(join(p, '.env'), `GITHUB_TOKEN=${GITHUB_VALUE}\n`);
    mkdirSync(join(p, 'sub'));
    writeFileSync(join(p, 'sub', '.env.local'), 'X=1\n');
    writeFileSync(join(p, '.env.example'), 'X=\n');
    mkdirSync(join(p, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(join(p, 'node_modules', 'pkg', '.env'), 'X=1\n');
    mkdirSync(join(p, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(p, 'a', 'b', 'c', '.env'), 'X=1\n');
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const r = await e.cli(args, { env: { GITHUB_TOKEN: GITHUB_VALUE, MY_API_KEY: NAMED_VALUE } });
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).not.toContain(GITHUB_VALUE);
      expect(r.stdout + r.stderr).not.toContain(NAMED_VALUE);
      if (args.length === 1) {
        expect(r.stdout).toContain('fail  environment variable GITHUB_TOKEN holds what looks like a GitHub token');
        expect(r.stdout).toContain('warn  environment variable MY_API_KEY looks like a credential by its name');
        expect(r.stdout).toContain(`warn  .env in ${p}: an agent working here can read its values in clear`);
        continue;
      }
      const rep = report(r.stdout);
      expect(find(rep, 'env.shape', 'fail').map((f) => f.message)).toEqual([expect.stringMatching(/^environment variable GITHUB_TOKEN /)]);
      expect(find(rep, 'dotenv.file', 'warn').map((f) => f.message.split(' ')[0])).toEqual(['.env', 'sub/.env.local']);
      expect(find(rep, 'dotenv.file')[0]!.fix).toBe('outloop secrets import .env --service NAME, then delete it (shred -u .env).');
    }
  });

  it('flags a 0644 store key and a group-writable config.yaml', async () => {
    chmodSync(join(e.home, 'store.key'), 0o644);
    chmodSync(join(e.home, 'config.yaml'), 0o664);
    const r = await e.cli(['doctor', '--json']);
    expect(r.status).toBe(1);
    const rep = report(r.stdout);
    expect(find(rep, 'store.key', 'fail')[0]).toMatchObject({ section: 'safety', message: expect.stringContaining('(mode 0644)'), fix: expect.stringContaining(`chmod 600 ${join(e.home, 'store.key')}`) });
    expect(find(rep, 'backend.local', 'fail')[0]!.message).toContain('the store refuses its key file');
    expect(find(rep, 'permissions', 'fail')[0]).toMatchObject({ message: expect.stringContaining(`${join(e.home, 'config.yaml')} is writable by group or others (mode 0664)`), fix: `chmod go-w ${join(e.home, 'config.yaml')}` });
  });

  it('never opens or reads the store key (an exec of the same grant does: the probe works)', async () => {
    const probe = join(e.root, 'doctor-probe.log');
    rmSync(probe, { force: true });
    const r = await e.cli(['doctor'], { probe });
    expect(r.status).toBe(0);
    const keyFile = join(e.home, 'store.key');
    const onKey = probeLines(probe).filter((l) => l.endsWith(` ${keyFile}`));
    expect(onKey.length).toBeGreaterThan(0); // it did look at the key file's mode
    expect(onKey.filter((l) => !/^(statSync|lstatSync|existsSync) /.test(l))).toEqual([]);

    rmSync(probe, { force: true });
    const x = await e.cli(['exec', 'dt.get'], { probe });
    expect(x.stderr).toBe('');
    expect(x.stdout).toBe('[REDACTED:TOKEN]\n');
    expect(probeLines(probe)).toContain(`readFileSync ${keyFile}`);
  });

  it('a value too short to mask well: secrets set warns, and doctor says so from the sealed length alone', async () => {
    const set = await e.cli(['secrets', 'set', 'local:acme/missing'], { input: 'abc' });
    expect(set.status).toBe(0);
    expect(set.stderr).toContain('warning: local:acme/missing: the value is 3 bytes long: too short to mask safely');
    expect(set.stderr).not.toContain('abc');
    try {
      const r = await e.cli(['doctor']);
      expect(r.stdout).toContain('warn  local: local:acme/missing (used by dt.MISSING): the value is 3 bytes long');
      // The stored 30-byte value is not flagged.
      expect(r.stdout).not.toContain('local:acme/token (used by dt.TOKEN): the value');
    } finally {
      await e.cli(['secrets', 'rm', 'local:acme/missing']);
    }
  });
});
