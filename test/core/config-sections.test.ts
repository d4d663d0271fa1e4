import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ParseCache } from '../../src/config/cache.js';
import { loadConfig } from '../../src/config/load.js';
import { splitTenants } from '../../src/config/sections.js';
import { ConfigError } from '../../src/errors.js';
import { lineOf, useTempDirs, write } from './helpers.js';

/**
 * Issue 18 item 5: the first exec after a config edit re-validates only the tenant sections that
 * changed. The result must be exactly what validating the whole file gives, and any problem must still
 * be reported by the whole-file pass, at its line.
 */
const validated = vi.hoisted(() => ({ sections: [] as string[] }));
vi.mock('../../src/config/validate.js', async (importOriginal) => {
  const cold = await importOriginal<typeof import('../../src/config/validate.js')>();
  return {
    ...cold,
    validateTenantSection: (file: string, name: string, text: string) => (validated.sections.push(name), cold.validateTenantSection(file, name, text)),
  };
});

const tempDir = useTempDirs();

const tenant = (n: number, extra = '') => `  t${n}:  # tenant ${n}
    projects: ["/work/clients/c${n}"]
    services:
      stripe:
        secrets: { STRIPE_KEY: "local:t${n}/stripe" }
        allow: [list-invoices, { recipe: refund, until: "2030-01-01T00:00:00Z" }]
        params: { limit: { max: 10 } }
${extra}`;
const CONFIG = (extra = '') => `# yaml-language-server: $schema=x
storeKey: file
tenants:
${[0, 1, 2, 3].map((n) => tenant(n, n === 2 ? extra : '')).join('\n')}
# trailing settings
recordRetention: 7d
`;

describe('config.yaml by tenant section', () => {
  it('gives exactly what validating the whole file gives', async () => {
    const dir = tempDir();
    const file = write(join(dir, 'config.yaml'), CONFIG('    rate: 60/h\n'));
    const whole = await loadConfig(file, {});
    const bySection = await loadConfig(file, {}, new ParseCache(join(dir, '.cache'), () => Buffer.alloc(32, 7)));
    expect(bySection.config).toEqual(whole.config);
    expect(JSON.stringify(Object.keys(bySection.config.tenants))).toBe(JSON.stringify(['t0', 't1', 't2', 't3']));
    expect(bySection.config).toMatchObject({ storeKey: 'file', recordRetention: '7d', tenants: { t2: { rate: '60/h' } } });
  });

  it('after an edit, only the edited section is validated again', async () => {
    const dir = tempDir();
    const cache = () => new ParseCache(join(dir, '.cache'), () => Buffer.alloc(32, 7));
    const file = write(join(dir, 'config.yaml'), CONFIG());
    validated.sections = [];
    await loadConfig(file, {}, cache());
    expect(validated.sections).toEqual(['t0', 't1', 't2', 't3']);
    write(file, CONFIG('    rate: 60/h\n'));
    validated.sections = [];
    const edited = await loadConfig(file, {}, cache());
    expect(validated.sections).toEqual(['t2']);
    expect(edited.config.tenants.t2!.rate).toBe('60/h');
    expect(edited.config).toEqual((await loadConfig(file, {})).config);
    // Unchanged since: the whole-file entry answers, nothing is validated.
    validated.sections = [];
    await loadConfig(file, {}, cache());
    expect(validated.sections).toEqual([]);
  });

  it('a problem in the edited section is still reported by the whole file, at its line', async () => {
    const dir = tempDir();
    const cache = () => new ParseCache(join(dir, '.cache'), () => Buffer.alloc(32, 7));
    const file = write(join(dir, 'config.yaml'), CONFIG());
    await loadConfig(file, {}, cache());
    const bad = CONFIG('    maxRisk: read\n');
    write(file, bad);
    const err = (await loadConfig(file, {}, cache()).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems[0]).toMatchObject({ line: lineOf(bad, 'maxRisk') });
    // A header problem too.
    const badHeader = CONFIG().replace('storeKey: file', 'storeKey: cupboard');
    write(file, badHeader);
    const err2 = (await loadConfig(file, {}, cache()).catch((e: unknown) => e)) as ConfigError;
    expect(err2.problems[0]).toMatchObject({ line: lineOf(badHeader, 'storeKey') });
  });

  it('only the plain block layout is cut; anything else is validated whole', () => {
    expect(splitTenants(CONFIG())?.tenants.map((t) => t.name)).toEqual(['t0', 't1', 't2', 't3']);
    expect(splitTenants(CONFIG())?.header).toBe('# yaml-language-server: $schema=x\nstoreKey: file\nrecordRetention: 7d\n');
    for (const odd of [
      'tenants: { a: { projects: [] } }\n',
      'tenants:\n  a:\n    projects: []\n  a:\n    projects: []\n',
      '---\ntenants:\n  a: {}\n',
      'tenants:\n  a: { projects: [] }\n',
      'tenants:\n    a:\n      projects: []\n  b:\n    projects: []\n',
      'tenants:\n  "a":\n    projects: []\n',
      'storeKey: file\n',
    ]) expect(splitTenants(odd), odd).toBeUndefined();
  });
});
