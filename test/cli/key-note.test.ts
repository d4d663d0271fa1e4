import { afterAll, describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { makeE2E } from '../e2e/helpers.js';
import { requireKeyring, secretTool, skipWithoutKeyring } from '../helpers/keyring.js';

/** The store key's location is said when the store is created (issue 17 item 7); doctor's side is in test/doctor. */
describe('secrets set: where the store key went', () => {
  const e = makeE2E(['acme']);
  afterAll(() => e.cleanup());

  it('the first value stored says the key is a file and what that means; later ones do not repeat it', async () => {
    e.writeConfig('storeKey: auto\ntenants: {}\n');
    const first = await e.cli(['secrets', 'set', 'local:acme/a'], { input: 'a-long-enough-value-123456' });
    expect(first.status).toBe(0);
    expect(first.stderr).toContain(`Created the local store ${e.home}/store.json; its key in the file ${e.home}/store.key (mode 600), as no OS keychain answers here`);
    expect(first.stderr).toContain('any program running as you (an agent with a shell) can read the store and its key');
    expect(first.stderr).toMatch(/next: .*system mode/);
    expect(first.stderr).not.toContain('a-long-enough-value-123456');
    const second = await e.cli(['secrets', 'set', 'local:acme/b'], { input: 'another-long-enough-value-1' });
    expect(second.status).toBe(0);
    expect(second.stderr).not.toContain('Created the local store');
  });
});

describe.skipIf(skipWithoutKeyring)('secrets set and doctor with a real keyring', () => {
  const e = makeE2E(['acme']);
  const env = { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS ?? '' };
  afterAll(() => {
    secretTool(['clear', 'service', 'outloop', 'username', `store-key:${realpathSync(e.home)}`]);
    e.cleanup();
  });

  it('the key in the keychain is said as such, and doctor calls it ok', async () => {
    requireKeyring();
    e.writeConfig(`storeKey: keychain\ntenants:\n  acme:\n    projects: [${JSON.stringify(e.projects.acme)}]\n    services:\n      s:\n        secrets: { A: "local:acme/a" }\n`);
    const r = await e.cli(['secrets', 'set', 'local:acme/a'], { input: 'a-long-enough-value-123456', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('its key in the OS keychain: a copy of the store alone decrypts nothing.');
    expect(r.stderr).not.toContain('next:');
    const d = await e.cli(['doctor'], { env });
    expect(d.stdout).toMatch(/ok {4}local: store .* answers: key in the OS keychain/);
  });
});
