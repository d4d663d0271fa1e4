import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, projectsAround } from '../../src/config/load.js';
import { ConfigError, Exit } from '../../src/errors.js';
import { expandHome } from '../../src/paths.js';
import { isWithin, resolveTenant } from '../../src/policy/tenant.js';
import { colOf, useTempDirs, write } from './helpers.js';

const tempDir = useTempDirs();
const realpathCalls = vi.hoisted(() => ({ n: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const realpathSync = Object.assign((p: string) => (realpathCalls.n++, fs.realpathSync(p)), { native: fs.realpathSync.native });
  return { ...fs, default: { ...fs, realpathSync }, realpathSync };
});

describe('resolveTenant (pure)', () => {
  const projects = [
    { tenant: 'acme', path: '/w/clients/acme' },
    { tenant: 'globex', path: '/w/clients/acme/vendor/globex-sdk' },
    { tenant: 'initech', path: '/w/clients/ac' },
  ];

  it('the nearest ancestor wins, whatever order the entries come in', () => {
    for (const list of [projects, [...projects].reverse()]) {
      expect(resolveTenant('/w/clients/acme/src', list)?.tenant).toBe('acme');
      expect(resolveTenant('/w/clients/acme/vendor/globex-sdk', list)?.tenant).toBe('globex');
      expect(resolveTenant('/w/clients/acme/vendor/globex-sdk/lib/x', list)).toEqual({ tenant: 'globex', project: '/w/clients/acme/vendor/globex-sdk' });
      // A sibling folder that merely shares a prefix with the nested project stays with the outer one.
      expect(resolveTenant('/w/clients/acme/vendor/globex-sdk2', list)?.tenant).toBe('acme');
    }
  });

  it('compares whole path segments: /a/bc is not within /a/b', () => {
    expect(isWithin('/a/bc', '/a/b')).toBe(false);
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b/c', '/a/b')).toBe(true);
    expect(isWithin('/a/b/c', '/a/b/')).toBe(true);
    expect(isWithin('/a', '/a/b')).toBe(false);
    expect(resolveTenant('/w/clients/acmeco', projects)).toBeNull();
    expect(resolveTenant('/w/clients/acme', projects)?.tenant).toBe('acme');
  });

  it('a folder outside every project has no tenant', () => {
    expect(resolveTenant('/w', projects)).toBeNull();
    expect(resolveTenant('/elsewhere', projects)).toBeNull();
    expect(resolveTenant('/w/clients/acme', [])).toBeNull();
  });
});

describe('loadConfig project binding', () => {
  it('expands ~ from the given environment and resolves relative paths against config.yaml', async () => {
    const root = tempDir();
    const home = join(root, 'userhome');
    const file = write(join(root, 'cfg', 'config.yaml'), 'tenants:\n  acme:\n    projects: [~/clients/acme, "~", rel/dir]\n');
    const loaded = await loadConfig(file, { HOME: home });
    expect(loaded.projects.map((p) => p.path)).toEqual([join(home, 'clients/acme'), home, join(root, 'cfg', 'rel/dir')]);
    expect(loaded.projects.map((p) => p.written)).toEqual(['~/clients/acme', '~', 'rel/dir']);
    expect(expandHome('~other/x', { HOME: home })).toBe('~other/x');
  });

  it('binds a symlinked project folder to the tenant of its target', async () => {
    const root = tempDir();
    const real = join(root, 'clients', 'acme');
    mkdirSync(join(real, 'src'), { recursive: true });
    symlinkSync(real, join(root, 'acme-link'));
    const file = write(join(root, 'config.yaml'), `tenants:\n  acme:\n    projects: [${join(root, 'acme-link')}]\n`);
    const loaded = await loadConfig(file, {});
    // Working in the real folder (the kernel's cwd is always real) lands on the link's tenant.
    const around = projectsAround(join(real, 'src'), loaded);
    expect(around).toEqual([{ tenant: 'acme', written: join(root, 'acme-link'), path: real }]);
    expect(resolveTenant(join(real, 'src'), around)?.tenant).toBe('acme');
    expect(projectsAround(join(root, 'clients'), loaded)).toEqual([]);
  });

  it('a bare ~ is YAML null, reported with its position rather than bound to the home folder', async () => {
    const root = tempDir();
    const text = 'tenants:\n  acme:\n    projects: [~/x, ~]\n';
    const err = (await loadConfig(write(join(root, 'config.yaml'), text), { HOME: root }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems[0]).toMatchObject({ line: 3, col: text.split('\n')[2]!.lastIndexOf('~') + 1 });
  });

  it('a missing config.yaml is not an error: it binds nothing', async () => {
    const root = tempDir();
    const loaded = await loadConfig(join(root, 'config.yaml'), {});
    expect(loaded.exists).toBe(false);
    expect(loaded.projects).toEqual([]);
  });

  it('a path bound to two tenants is a config error (78) pointing at the second entry', async () => {
    const root = tempDir();
    const shared = join(root, 'shared');
    mkdirSync(shared);
    const text = [
      'tenants:',
      '  acme:',
      `    projects: [${shared}]`,
      '  globex:',
      '    projects:',
      '      - ~/elsewhere',
      `      - ${shared}/`,
      '',
    ].join('\n');
    const file = write(join(root, 'config.yaml'), text);
    const err = await loadConfig(file, { HOME: join(root, 'u') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.exitCode).toBe(Exit.config);
    expect(ce.exitCode).toBe(78);
    expect(ce.problems).toHaveLength(1);
    expect(ce.problems[0]).toMatchObject({ file, line: 7, col: colOf(text, `${shared}/`) });
    expect(ce.message).toContain(`${file}:7:`);
    expect(ce.message).toContain('"acme"');
    expect(ce.message).toContain('"globex"');
  });

  it('two tenants naming one folder through a symlink is a config error for a request from inside it', async () => {
    const root = tempDir();
    const real = join(root, 'p');
    mkdirSync(join(real, 'src'), { recursive: true });
    mkdirSync(join(root, 'q'));
    symlinkSync(real, join(root, 'p-link'));
    const text = `tenants:\n  acme:\n    projects: [${real}]\n  globex:\n    projects: [${join(root, 'p-link')}]\n  initech:\n    projects: [${join(root, 'q')}]\n`;
    const file = write(join(root, 'config.yaml'), text);
    const loaded = await loadConfig(file, {});
    const err = (() => {
      try {
        return projectsAround(join(real, 'src'), loaded);
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(78);
    expect(err.message).toContain('"acme" and "globex"');
    // A request from another tenant's folder does not pay for resolving this one, nor fail on it.
    expect(resolveTenant(join(root, 'q'), projectsAround(join(root, 'q'), loaded))?.tenant).toBe('initech');
  });

  it('only folders that could contain the working directory are resolved', async () => {
    const root = tempDir();
    const clients = join(root, 'clients');
    const names = Array.from({ length: 200 }, (_, i) => `c${i}`);
    for (const n of names) mkdirSync(join(clients, n), { recursive: true });
    symlinkSync(join(clients, 'c7'), join(root, 'seven'));
    const text = `tenants:\n${names.map((n) => `  ${n}:\n    projects: [${join(clients, n)}]\n`).join('')}  seven:\n    projects: [${join(root, 'seven')}/sub]\n`;
    mkdirSync(join(clients, 'c7', 'sub'));
    const file = write(join(root, 'config.yaml'), text);
    realpathCalls.n = 0;
    const loaded = await loadConfig(file, {});
    expect(resolveTenant(join(clients, 'c150'), projectsAround(join(clients, 'c150'), loaded))?.tenant).toBe('c150');
    expect(resolveTenant(join(clients, 'c7', 'sub', 'x'), projectsAround(join(clients, 'c7', 'sub', 'x'), loaded))?.tenant).toBe('seven');
    // One per distinct parent folder (clients/, root/, seven/) and the symlinked project, not one per project.
    expect(realpathCalls.n).toBeLessThan(10);
  });

  it('one tenant listing a folder twice, or nesting projects of two tenants, is allowed', async () => {
    const root = tempDir();
    const text = `tenants:\n  acme:\n    projects: [${root}/a, ${root}/a]\n  globex:\n    projects: [${root}/a/inner]\n`;
    const { projects } = await loadConfig(write(join(root, 'config.yaml'), text), {});
    expect(resolveTenant(`${root}/a/inner/x`, projects)?.tenant).toBe('globex');
    expect(resolveTenant(`${root}/a/innerx`, projects)?.tenant).toBe('acme');
  });
});
