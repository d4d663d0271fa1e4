import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { validateConfigText } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';
import { parseRef } from '../../src/secrets/ref.js';
import { colOf, lineOf, useTempDirs, write } from './helpers.js';

const tempDir = useTempDirs();

const GOOD = `tenants:
  acme:
    projects: [~/clients/acme]
    services:
      stripe:
        secrets:
          STRIPE_KEY: local:acme/stripe
        allow: [list-invoices]
`;

/** The ConfigError a text raises, failing the test if it raises nothing. */
async function configError(text: string): Promise<{ err: ConfigError; file: string }> {
  const file = write(join(tempDir(), 'config.yaml'), text);
  const err = await loadConfig(file, { HOME: '/home/u' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  return { err: err as ConfigError, file };
}

describe('config.yaml errors fail closed with file:line:col', () => {
  it('the fixture itself is valid, so every failure below is caused by its one edit', async () => {
    const cfg = validateConfigText('/x/config.yaml', GOOD);
    expect(cfg.tenants.acme?.services.stripe?.secrets).toEqual({ STRIPE_KEY: 'local:acme/stripe' });
  });

  it('a guardrail key not enforced yet (escalate) is an error, not silently ignored', async () => {
    const text = GOOD.replace('        allow: [list-invoices]\n', '        allow: [list-invoices]\n        escalate: auto\n');
    const { err, file } = await configError(text);
    expect(err.exitCode).toBe(78);
    expect(err.code).toBe('invalid_config');
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ file, line: lineOf(text, 'escalate'), col: colOf(text, 'escalate') });
    expect(err.problems[0]?.message).toContain('unknown key "escalate"');
    expect(err.problems[0]?.message).toContain('tenants.acme.services.stripe');
    expect(err.message.startsWith(`${file}:${lineOf(text, 'escalate')}:${colOf(text, 'escalate')}: `)).toBe(true);
  });

  it('a typo at the top level and inside a tenant are both reported, each at its own line', async () => {
    const text = `${GOOD}recipePath: [x]\n`.replace('    projects:', '    project: [y]\n    projects:');
    const { err } = await configError(text);
    const lines = err.problems.map((p) => p.line).sort((a, b) => a! - b!);
    expect(lines).toEqual([lineOf(text, 'project: [y]'), lineOf(text, 'recipePath')].sort((a, b) => a - b));
    expect(err.message).toContain('(and 1 more problem)');
  });

  it('a secret value pasted where a reference belongs is rejected at its line, without echoing the value', async () => {
    const pasted = 'sk_live_51HxQ2bExampleNotARealKey';
    const text = GOOD.replace('local:acme/stripe', pasted);
    const { err } = await configError(text);
    expect(err.problems[0]).toMatchObject({ line: lineOf(text, pasted), col: colOf(text, pasted) });
    expect(err.problems[0]?.message).toContain('tenants.acme.services.stripe.secrets.STRIPE_KEY');
    expect(err.message).not.toContain(pasted);
  });

  it('an unknown backend is rejected; op:// and {{tenant}} references are accepted', async () => {
    const { err } = await configError(GOOD.replace('local:acme/stripe', 'lastpass:acme/stripe'));
    expect(err.problems[0]?.line).toBe(7);
    const ok = validateConfigText('/x/config.yaml', GOOD.replace('local:acme/stripe', '"op://Acme/Stripe/credential"'));
    expect(ok.tenants.acme?.services.stripe?.secrets.STRIPE_KEY).toBe('op://Acme/Stripe/credential');
    expect(() => validateConfigText('/x/config.yaml', GOOD.replace('local:acme/stripe', '"local:{{tenant}}/stripe"'))).not.toThrow();
  });

  // Regression (was a bug): src/config/schema.ts secretRef refine uses s.slice(0, s.indexOf(':')); with no colon indexOf is -1,
  // so "localx" is checked as "local" and accepted. The request then fails late in parseRef (bad_ref, exit 64)
  // after the attempt has started, instead of config.yaml failing closed at load with file:line:col.
  it('a reference with no colon ("localx") is a config error', async () => {
    expect(() => parseRef('localx')).toThrow(/not a secret reference/);
    const { err } = await configError(GOOD.replace('local:acme/stripe', 'localx'));
    expect(err.problems[0]?.line).toBe(7);
  });

  // Regression (was a bug): same refine never checks the path, so "local:" passes validation though parseRef rejects it
  // ("has an empty path") at run time.
  it('a reference with an empty path ("local:") is a config error', async () => {
    expect(() => parseRef('local:')).toThrow(/empty path/);
    const { err } = await configError(GOOD.replace('local:acme/stripe', '"local:"'));
    expect(err.problems[0]?.line).toBe(7);
  });

  // Regression (was a bug): src/config/yaml.ts parseYaml reads err.linePos, which the yaml library fills only with
  // prettyErrors: true; with prettyErrors: false every YAML syntax error has line/col undefined, so the
  // message is just "<file>: <message>". Fix: use lineCounter.linePos(err.pos[0]) when linePos is absent.
  it('a YAML syntax error (unclosed flow list) is reported at its line and column', async () => {
    const text = GOOD.replace('        allow: [list-invoices]', '        allow: [list-invoices\n        run: true');
    const { err, file } = await configError(text);
    const p = err.problems[0]!;
    expect(p.file).toBe(file);
    // The parser notices the missing "]" where the next key starts.
    expect(p.line).toBe(lineOf(text, 'run: true'));
    expect(p.col).toBe(colOf(text, 'run: true'));
    expect(err.message.startsWith(`${file}:${p.line}:${p.col}: `)).toBe(true);
  });

  // Regression (was a bug): as above (yaml.ts linePos), for a duplicate key.
  it('a duplicate key is reported at the second key', async () => {
    const dup = GOOD.replace('        allow: [list-invoices]\n', '        allow: [list-invoices]\n        allow: ["*"]\n');
    const { err } = await configError(dup);
    expect(err.problems[0]?.message).toContain('unique');
    expect(err.problems[0]).toMatchObject({ line: lineOf(dup, 'allow: ["*"]'), col: colOf(dup, 'allow: ["*"]') });
  });

  it('a YAML syntax error still fails closed with exit 78 and names the file', async () => {
    const text = GOOD.replace('        allow: [list-invoices]', '        allow: [list-invoices\n        run: true');
    const { err, file } = await configError(text);
    expect(err.exitCode).toBe(78);
    expect(err.message.startsWith(file)).toBe(true);
    expect(err.message).toContain('Flow sequence');
  });

  it('a wrong type is reported at its node', async () => {
    const text = GOOD.replace('allow: [list-invoices]', 'allow: list-invoices');
    const { err } = await configError(text);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ line: lineOf(text, 'allow: list-invoices'), col: colOf(text, 'list-invoices') });
    expect(err.problems[0]?.message).toContain('tenants.acme.services.stripe.allow');
  });

  it('a tenant name outside the naming rules is rejected', async () => {
    const { err } = await configError(GOOD.replace('  acme:', '  Acme Corp:'));
    expect(err.exitCode).toBe(78);
    expect(err.problems[0]?.message).toContain('Acme Corp');
  });
});

describe('invalid names', () => {
  it('a tenant name that is not a valid key is reported at the key, with the rule', () => {
    const text = 'tenants:\n  Acme Corp:\n    projects: [/tmp/x]\n';
    let err: unknown;
    try {
      validateConfigText('/c.yaml', text);
    } catch (e) {
      err = e;
    }
    const problems = (err as { problems: { line?: number; col?: number; message: string }[] }).problems;
    expect(problems[0]).toMatchObject({ line: 2, col: 3 });
    expect(problems[0]!.message).toContain('"Acme Corp" is not a valid name in tenants');
    expect(problems[0]!.message).toContain('lowercase');
  });
});
