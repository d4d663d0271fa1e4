import { describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';
import { lintRecipeText } from '../../src/recipe/lint.js';

/** Contracts are checked where they are written: a bad path or combination is a file:line error. */
const recipe = (output: string) => `service: shop
hosts: [api.example.com]
recipes:
  list:
    description: list
    run: [curl, "https://api.example.com/x"]
    output: ${output}
`;

describe('output: in recipes and grants', () => {
  it('a valid contract loads onto the recipe', () => {
    const r = lintRecipeText('/r/shop.yaml', recipe('{ pick: ["data[*].id", "$.total_count"], mask: { "data[*].email": hash }, pii: [email, card], maxBytes: 1000 }'));
    expect(r.problems).toEqual([]);
    expect(r.recipes[0]!.output).toEqual({ pick: ['data[*].id', '$.total_count'], mask: { 'data[*].email': 'hash' }, pii: ['email', 'card'], maxBytes: 1000 });
  });
  it.each([
    ['{ pick: ["data[x]"] }', 'bad output path'],
    ['{ mask: { "a..b": redact } }', 'bad output path'],
    ['{ mask: { a: scramble } }', ''],
    ['{ pii: [ssn] }', ''],
    ['{ format: text, pick: [a] }', 'pick and mask need format: json'],
    ['{ maxBytes: 0 }', ''],
    ['{ pick: [] }', ''],
    ['{ picks: [a] }', 'picks'],
  ])('%s is an error at its line', (output, message) => {
    const r = lintRecipeText('/r/shop.yaml', recipe(output));
    const errors = r.problems.filter((p) => p.severity !== 'warning');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.line).toBe(7);
    expect(errors.map((p) => p.message).join('\n')).toContain(message);
  });
  it('a grant may tighten per recipe or for "*", and record; bad keys are errors', () => {
    const base = (grant: string) => `tenants:\n  acme:\n    projects: [/p]\n    services:\n      shop:\n        allow: ["*"]\n${grant}`;
    const c = validateConfigText('/c.yaml', `${base('        record: true\n        output:\n          list: { pick: [a], maxBytes: 10 }\n          "*": { pii: { email: hash } }\n')}recordRetention: 7d\n`);
    expect(c.tenants.acme!.services.shop!.record).toBe(true);
    expect(c.recordRetention).toBe('7d');
    expect(validateConfigText('/c.yaml', base('')).recordRetention).toBe('30d');
    for (const bad of ['        output:\n          List: { pick: [a] }\n', '        output:\n          list: { pick: ["a["] }\n', '        record: yes please\n']) {
      expect(() => validateConfigText('/c.yaml', base(bad))).toThrow(ConfigError);
    }
    expect(() => validateConfigText('/c.yaml', `${base('')}recordRetention: forever\n`)).toThrow(/duration/);
  });
});
