import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { builtinShapeRules, compileShapes } from '../../src/redact/shapes/index.js';
import { runStream } from './helpers.js';

const shapes = compileShapes(builtinShapeRules());
// A token nobody injected, in a known provider format, and an injected value.
const FOUND = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'}`;
const VALUE = { name: 'STRIPE_KEY', value: 'sk_live_51Habc123XYZsecretQ9' };

describe('values + shape rules', () => {
  const r = new Redactor([VALUE], { shapes });
  const text = `deploy with ${VALUE.value} and ${Buffer.from(`u:${VALUE.value}`).toString('base64')}\nfound token ${FOUND} in .env\nsha512-${'A'.repeat(86)}== ok\n`;

  it('masks known values by name and shapes by rule id, counting both', () => {
    const { output, count } = r.redactBuffer(Buffer.from(text));
    const out = output.toString();
    expect(out).not.toContain(VALUE.value);
    expect(out).not.toContain(FOUND);
    expect(out).toContain('[REDACTED:STRIPE_KEY]');
    expect(out).toMatch(/found token \[REDACTED:[a-z0-9-]+\] in \.env/);
    expect(out).toContain(`sha512-${'A'.repeat(86)}== ok`);
    expect(count).toBe(3);
    expect(r.empty).toBe(false);
    expect(new Redactor([], { shapes }).empty).toBe(false);
  });

  it('streams to the same output as the whole buffer under every 2-way split', () => {
    const input = Buffer.from(text);
    const whole = r.redactBuffer(input);
    for (let i = 0; i <= input.length; i++) {
      const got = runStream(r, [input.subarray(0, i), input.subarray(i)]);
      expect(got.output.toString(), `split at ${i}`).toBe(whole.output.toString());
      expect(got.count).toBe(whole.count);
    }
  });

  it('applies shape rules alone when no value is injected', () => {
    const only = new Redactor([], { shapes });
    expect(only.redactString(`token ${FOUND}\n`)).toMatch(/^token \[REDACTED:[a-z0-9-]+\]\n$/);
    expect(runStream(only, [`tok`, `en ${FOUND.slice(0, 10)}`, `${FOUND.slice(10)}\n`]).output.toString()).toMatch(/^token \[REDACTED:[a-z0-9-]+\]\n$/);
  });
});
