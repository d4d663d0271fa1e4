import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/validate.js';
import { passwdUidOf, systemUidOf, userTenant } from '../../src/system/users.js';
import { makeE2E } from '../e2e/helpers.js';

/**
 * On a team machine the agents' users often come from LDAP or sssd, not /etc/passwd. tenants.<name>.users
 * names them as the system resolves them (getpwnam_r through NSS, native/peercred), as sshd and polkit do.
 * .ci/run makes such a user with libnss-extrausers (NSS's "extrausers" source, after "files"): it is in
 * /var/lib/extrausers/passwd, not in /etc/passwd. Elsewhere the suite skips, except with CI=true.
 */
const NSS_USER = 'outloop-nss';
const CI = process.env.CI === 'true';
const entry = spawnSync('getent', ['passwd', NSS_USER], { encoding: 'utf8' });
const inFile = readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${NSS_USER}:`));
const uid = entry.status === 0 ? Number(entry.stdout.split(':')[2]) : undefined;
const present = uid !== undefined && !inFile;

describe.skipIf(process.platform !== 'linux' || (!present && !CI))('OS users from NSS (LDAP, sssd): tenants.<name>.users', () => {
  const e = makeE2E(['acme']);
  afterAll(() => e.cleanup());

  it(`a user only NSS knows is an OS user: its uid binds it, \`tenant user\` takes it, \`config check\` is quiet`, async () => {
    expect(present, `${NSS_USER} must resolve through NSS and not be in /etc/passwd (.ci/run sets it up with libnss-extrausers)`).toBe(true);
    // Not in the file: a lookup of /etc/passwd alone refuses it, and with it every request of the tenant.
    expect(passwdUidOf('/etc/passwd', 'cfg')(NSS_USER)).toBeUndefined();
    expect(systemUidOf('cfg')(NSS_USER)).toBe(uid);
    expect(systemUidOf('cfg')('no-such-user-3f9c')).toBeUndefined();

    const config = validateConfigText('/etc/outloop/config.yaml', `tenants:\n  acme:\n    projects: [/w/acme]\n    users: [${NSS_USER}]\n`);
    expect(userTenant(config, uid!, 'cfg')).toEqual({ name: NSS_USER, tenant: 'acme' });
    expect(userTenant(config, uid! + 1, 'cfg')).toBeUndefined();

    e.writeConfig(`tenants:\n  acme:\n    projects: [${JSON.stringify(e.projects.acme)}]\n`);
    const bound = await e.cli(['tenant', 'user', 'acme', NSS_USER]);
    expect(bound.stderr).toBe('');
    expect(bound.status).toBe(0);
    const check = await e.cli(['config', 'check']);
    expect(check.stdout).not.toContain('no OS user');
    expect(check.status).toBe(0);
  });
});
