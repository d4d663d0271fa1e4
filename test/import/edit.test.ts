import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { editConfig, editedConfig } from '../../src/config/edit.js';
import { ConfigError, UsageError } from '../../src/errors.js';

/**
 * config.yaml is a person's file: an import adds its bindings and leaves every other byte as written
 * (comments, their columns, flow lists, indentation). Expected outputs are spelled out in full.
 */
const FILE = '/x/config.yaml';
const B = (name: string, ref: string) => ({ name, ref });

describe('editedConfig', () => {
  it('adds to a block secrets map, keeping aligned comments and flow lists untouched', () => {
    const text = `# top comment
tenants:
  acme:
    projects: [~/clients/acme-web]        # bound folders
    services:
      stripe:
        secrets:
          STRIPE_KEY: local:acme/stripe    # reference, never the value
        allow: [list-invoices, get-invoice]   # granted recipes
        run: false                          # wrap commands?
storeKey: file
`;
    const out = editedConfig(FILE, text, 'acme', 'stripe', [B('WEBHOOK_SECRET', 'local:acme/stripe/webhook_secret')]);
    expect(out).toBe(text.replace('never the value\n', 'never the value\n          WEBHOOK_SECRET: local:acme/stripe/webhook_secret\n'));
  });

  it('creates a missing service grant with allow: [], in the file\'s own indentation', () => {
    const text = `tenants:
    acme:
        projects:
        - /p
        services:
            other:
                allow: ["*"]

    globex:
        projects: [/g]
`;
    const out = editedConfig(FILE, text, 'acme', 'github', [B('GH_TOKEN', 'local:acme/github/gh_token'), B('GH_APP_KEY', 'local:acme/github/gh_app_key')]);
    expect(out).toBe(`tenants:
    acme:
        projects:
        - /p
        services:
            other:
                allow: ["*"]
            github:
                secrets:
                    GH_TOKEN: local:acme/github/gh_token
                    GH_APP_KEY: local:acme/github/gh_app_key
                allow: []

    globex:
        projects: [/g]
`);
  });

  it('extends flow maps in place, including an empty one', () => {
    const text = `tenants:
  acme:
    projects: [/p]
    services:
      stripe:
        secrets: { STRIPE_KEY: "local:acme/stripe" }   # inline
        allow: ["*"]
  globex:
    projects: [/g]
    services: {}   # nothing yet
`;
    const a = editedConfig(FILE, text, 'acme', 'stripe', [B('NEW_KEY', 'local:acme/stripe/new_key')]);
    expect(a).toBe(text.replace('{ STRIPE_KEY: "local:acme/stripe" }', '{ STRIPE_KEY: "local:acme/stripe", NEW_KEY: local:acme/stripe/new_key }'));
    const g = editedConfig(FILE, text, 'globex', 'api', [B('TOKEN', 'local:globex/api/token')]);
    expect(g).toBe(text.replace('services: {}', 'services: { api: { secrets: { TOKEN: local:globex/api/token }, allow: [] } }'));
  });

  it('adds services: to a tenant that has none, and appends at the end of a file without a final newline', () => {
    const text = 'tenants:\n  acme:\n    projects: [/p]';
    expect(editedConfig(FILE, text, 'acme', 'api', [B('TOKEN', 'local:acme/api/token')])).toBe(
      'tenants:\n  acme:\n    projects: [/p]\n    services:\n      api:\n        secrets:\n          TOKEN: local:acme/api/token\n        allow: []\n',
    );
  });

  it('replaces an existing binding\'s value only, keeping its comment', () => {
    const text = 'tenants:\n  acme:\n    services:\n      s:\n        secrets:\n          A: "op://Vault/Item/field"   # from 1Password\n          B: local:acme/b\n';
    expect(editedConfig(FILE, text, 'acme', 's', [B('A', 'local:acme/s/a')])).toBe(text.replace('"op://Vault/Item/field"', 'local:acme/s/a'));
  });

  it('quotes a name YAML would read as something else', () => {
    const out = editedConfig(FILE, 'tenants:\n  acme:\n    services:\n      s:\n        allow: []\n', 'acme', 's', [B('TRUE', 'local:acme/s/true')]);
    expect(out).toContain('"TRUE": local:acme/s/true');
    expect(parse(out).tenants.acme.services.s.secrets).toEqual({ TRUE: 'local:acme/s/true' });
  });

  it('falls back to the Document API for a shape it cannot splice, and the result still reads right', () => {
    // A comment inside a multi-line flow map: splicing after the last character would land in the comment.
    const text = 'tenants:\n  acme:\n    services:\n      s:\n        secrets: {\n          A: local:acme/a  # a\n        }\n';
    const out = editedConfig(FILE, text, 'acme', 's', [B('NEW', 'local:acme/s/new')]);
    expect(parse(out).tenants.acme.services.s.secrets).toEqual({ A: 'local:acme/a', NEW: 'local:acme/s/new' });
    expect(out).toContain('# a');
  });

  it('refuses to edit through an anchor shared with another tenant (the binding would leak to it)', () => {
    const text = 'tenants:\n  acme:\n    services: &shared\n      gh:\n        secrets:\n          A: local:x\n  globex:\n    services: *shared\n';
    for (const tenant of ['acme', 'globex']) {
      const err = (() => {
        try {
          editedConfig(FILE, text, tenant, 'gh', [B('B', `local:${tenant}/gh/b`)]);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('config_not_editable');
    }
  });

  it('validates the result as a request would: a bad reference is a config error, not a written file', () => {
    const text = 'tenants:\n  acme:\n    services: {}\n';
    expect(() => editedConfig(FILE, text, 'acme', 's', [B('A', 'nope:x')])).toThrow(ConfigError);
  });
});

describe('editConfig: the operations tenant, grant and revoke use', () => {
  const text = `# team config
tenants:
  acme:
    projects:
      - /p          # the web app
      - /q
    services:
      gh:
        allow: [a, b]   # reads
        deny:
          c: no
`;
  it('push appends to a block list at its column, and to a flow list before its bracket', () => {
    expect(editConfig(FILE, text, [{ op: 'push', path: ['tenants', 'acme', 'projects'], value: '/r' }])).toBe(text.replace('      - /q\n', '      - /q\n      - "/r"\n'));
    expect(editConfig(FILE, text, [{ op: 'push', path: ['tenants', 'acme', 'services', 'gh', 'allow'], value: { recipe: 'x', until: '2026-12-01T00:00:00Z' } }])).toBe(
      text.replace('[a, b]', '[a, b, { recipe: x, until: "2026-12-01T00:00:00Z" }]'),
    );
  });

  it('remove takes a block item\'s whole line, a flow item with its comma, and leaves {} for an emptied map', () => {
    expect(editConfig(FILE, text, [{ op: 'remove', path: ['tenants', 'acme', 'projects', 0] }])).toBe(text.replace('      - /p          # the web app\n', ''));
    expect(editConfig(FILE, text, [{ op: 'remove', path: ['tenants', 'acme', 'services', 'gh', 'allow', 1] }])).toBe(text.replace('[a, b]', '[a]'));
    expect(editConfig(FILE, text, [{ op: 'remove', path: ['tenants', 'acme', 'services', 'gh', 'deny', 'c'] }])).toBe(text.replace('        deny:\n          c: no\n', '        deny: {}\n'));
  });

  it('set replaces a scalar or flow value in place, and a result that is not valid config is an error, not a text', () => {
    expect(editConfig(FILE, text, [{ op: 'set', path: ['tenants', 'acme', 'services', 'gh', 'allow'], value: ['*'] }])).toBe(text.replace('[a, b]', '["*"]'));
    expect(() => editConfig(FILE, text, [{ op: 'set', path: ['tenants', 'acme', 'services', 'gh', 'maxRisk'], value: 'reed' }])).toThrow(ConfigError);
  });
});
