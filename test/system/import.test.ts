import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSystem, skipSystem, type SystemEnv } from './helpers.js';

// `sudo outloop system import HOME`: a personal home's store moves under the daemon's key, its config and
// recipes into the (still starter) system config; the old store goes only after the new one reads back.
const VALUE = 'imported-sys-secret-5c0ffee1';
let s: SystemEnv;

describe.skipIf(skipSystem)('system import', () => {
  beforeAll(async () => {
    s = await makeSystem(['acme']);
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('moves the store (re-encrypted), the config and recipes; removes the old store; the daemon serves it', async () => {
    const home = join(s.prefix, 'personal');
    mkdirSync(join(home, 'recipes'), { recursive: true });
    writeFileSync(join(home, 'config.yaml'), `storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(s.projects.acme)}]\n    services:\n      len:\n        secrets: { TOKEN: "local:acme/token" }\n        allow: ["*"]\n`);
    writeFileSync(join(home, 'recipes', 'len.yaml'), `service: len\nsecrets: [TOKEN]\nrecipes:\n  show:\n    description: length\n    run: [sh, -c, 'printf "%s <%s>" "\${#T}" "$T"']\n    env: { T: "{{secrets.TOKEN}}" }\n`);
    const bin = join(s.pkg, 'bin/outloop.js');
    const personal = { PATH: process.env.PATH, OUTLOOP_HOME: home };
    expect(spawnSync(process.execPath, [bin, 'secrets', 'set', 'local:acme/token'], { input: VALUE, env: personal, encoding: 'utf8' }).status).toBe(0);

    const r = spawnSync(process.execPath, [bin, 'system', 'import', home, '--prefix', s.prefix], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('imported 1 value');
    expect(r.stdout).toContain('removed the personal store');
    expect(existsSync(join(home, 'store.json'))).toBe(false);
    expect(existsSync(join(home, 'store.key'))).toBe(false);
    for (const f of ['store.json', 'store.key']) expect(statSync(join(s.prefix, 'var/lib/outloop', f)).uid).toBe(s.daemonUser.uid);
    expect(statSync(join(s.prefix, 'etc/outloop/config.yaml')).uid).toBe(0);

    await s.startDaemon();
    const ex = await s.agent$(['exec', 'len.show']);
    expect(ex.stdout).toBe(`${VALUE.length} <[REDACTED:TOKEN]>`);
    // Again: nothing left to import, and the system config (no longer the starter) is not overwritten.
    const again = spawnSync(process.execPath, [bin, 'system', 'import', home, '--prefix', s.prefix], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(again.status).toBe(64);
    expect(again.stderr).toContain('no local store');
  });
});
