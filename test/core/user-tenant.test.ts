import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { validateConfigText } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';
import { tenantGates } from '../../src/policy/tenant.js';
import { passwdUidOf, userTenant } from '../../src/system/users.js';
import { lineOf, useTempDirs, write } from './helpers.js';

/**
 * tenants.<name>.users (system mode): the caller's uid, which the kernel gives the daemon, binds its
 * requests to one tenant, whatever folder the request names.
 */
const tempDir = useTempDirs();

const config = (users: Record<string, (string | number)[]>) =>
  validateConfigText('/etc/outloop/config.yaml', `tenants:\n${Object.entries(users).map(([t, u]) => `  ${t}:\n    projects: [/w/${t}]\n    users: ${JSON.stringify(u)}\n`).join('')}`);

describe('userTenant: the tenant a uid is bound to', () => {
  const passwd = () => write(join(tempDir(), 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nagent-acme:x:1201:1201::/home/a:/bin/sh\nagent-globex:x:1202:1202::/home/g:/bin/sh\n');

  it('by name (through the passwd file) or by uid; unlisted uids are not bound', () => {
    const p = passwdUidOf(passwd(), 'cfg');
    const c = config({ acme: ['agent-acme'], globex: [1202] });
    expect(userTenant(c, 1201, 'cfg', p)).toEqual({ name: 'agent-acme', tenant: 'acme' });
    expect(userTenant(c, 1202, 'cfg', p)).toEqual({ name: 'uid 1202', tenant: 'globex' });
    expect(userTenant(c, 0, 'cfg', p)).toBeUndefined();
    expect(userTenant(config({ acme: [] }), 1201, 'cfg', passwdUidOf('/nonexistent', 'cfg'))).toBeUndefined();
  });

  it('fails closed: a name that is no OS user, or one uid claimed by two tenants, is a config error', () => {
    const p = passwdUidOf(passwd(), 'cfg');
    expect(() => userTenant(config({ acme: ['agent-acmee'] }), 1201, 'cfg', p)).toThrow(ConfigError);
    expect(() => userTenant(config({ acme: ['agent-acmee'] }), 1201, 'cfg', p)).toThrow(/no OS user "agent-acmee"/);
    expect(() => userTenant(config({ acme: ['agent-acme'], globex: [1201] }), 1201, 'cfg', p)).toThrow(/uid 1201 is bound to two tenants, "acme" and "globex"/);
  });
});

describe('tenantGates with a bound user', () => {
  const binding = { tenant: 'globex', project: '/w/globex' };

  it('a bound user in another tenant\'s project is wrong_tenant, whatever it asserts', () => {
    for (const asserted of [undefined, 'globex']) {
      const t = tenantGates({ ...binding, user: { name: 'agent-acme', tenant: 'acme' } }, asserted, '/w/globex/src', 'cfg');
      expect(t).toMatchObject({ ok: false, gate: 'assertion', code: 'wrong_tenant' });
      if (!t.ok) expect(t.reason).toBe('this project belongs to tenant "globex", but requests from OS user agent-acme are bound to tenant "acme" (tenants.acme.users)');
    }
  });

  it('in its own tenant\'s project it passes, and says so', () => {
    const t = tenantGates({ ...binding, user: { name: 'agent-globex', tenant: 'globex' } }, undefined, '/w/globex/src', 'cfg');
    expect(t.ok).toBe(true);
    expect(t.passed.at(-1)).toEqual({ name: 'assertion', detail: 'none asserted; OS user agent-globex is bound to globex' });
  });
});

describe('config: a user belongs to one tenant', () => {
  it('a user written under two tenants is an error at its line', async () => {
    const dir = tempDir();
    const text = 'tenants:\n  acme:\n    projects: [/w/acme]\n    users: [agent]\n  globex:\n    projects: [/w/globex]\n    users: [other, agent]\n';
    const file = write(join(dir, 'config.yaml'), text);
    const err = await loadConfig(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatchObject({ line: lineOf(text, 'users: [other, agent]'), message: 'user agent is bound to two tenants, "acme" and "globex"; a user belongs to one tenant' });
  });

  it('names and uids are accepted; anything else is a schema error', () => {
    expect(config({ acme: ['agent-acme', 1201] }).tenants.acme!.users).toEqual(['agent-acme', 1201]);
    expect(() => config({ acme: ['not a name'] })).toThrow(ConfigError);
    expect(() => config({ acme: [-1] })).toThrow(ConfigError);
  });
});
