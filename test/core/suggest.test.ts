import { describe, expect, it } from 'vitest';
import { closest, distance } from '../../src/util/suggest.js';
import { validateConfigText } from '../../src/config/validate.js';
import { lintRecipeText } from '../../src/recipe/lint.js';
import { validateParams } from '../../src/recipe/params.js';
import { ConfigError } from '../../src/errors.js';

describe('did you mean', () => {
  it('finds the closest existing name within a third of its length, and nothing when none is close', () => {
    expect(distance('gihub', 'github')).toBe(1);
    expect(distance('ab', 'ba')).toBe(1);
    expect(closest('gihub', ['gitlab', 'github', 'stripe'])).toBe('github');
    expect(closest('strpie', ['stripe', 'slack'])).toBe('stripe');
    expect(closest('s3', ['sentry', 'slack'])).toBeUndefined();
    expect(closest('x', [])).toBeUndefined();
  });

  it('an unknown config key names the closest key of that level', () => {
    const text = 'tenants:\n  acme:\n    projcts: [/p]\n    services:\n      s:\n        maxRisc: read\nstoreKy: file\n';
    let err: ConfigError | undefined;
    try {
      validateConfigText('/c.yaml', text);
    } catch (e) {
      err = e as ConfigError;
    }
    const messages = err!.problems.map((p) => `${p.line}: ${p.message}`);
    expect(messages).toContain('3: unknown key "projcts" in tenants.acme (did you mean "projects"?)');
    expect(messages).toContain('6: unknown key "maxRisc" in tenants.acme.services.s (did you mean "maxRisk"?)');
    expect(messages).toContain('7: unknown key "storeKy" (did you mean "storeKey"?)');
  });

  it('an unknown recipe-file key and an unknown parameter name the closest', () => {
    const r = lintRecipeText('/r/x.yaml', 'service: x\nhosts: []\nrecipes:\n  a:\n    description: d\n    risk: read\n    rn: [echo]\n');
    expect(r.problems.map((p) => p.message).join('\n')).toContain('(did you mean "run"?)');
    const v = validateParams({ limit: { type: 'integer' } } as never, { limt: '3' });
    expect(!v.ok && v.failure.message).toContain('did you mean "limit"?');
  });
});
