import { describe, expect, it } from 'vitest';
import { paramsJsonSchema, toolName } from '../../src/recipe/json-schema.js';
import { ParamSchema } from '../../src/recipe/schema.js';
import { validateParams } from '../../src/recipe/params.js';

const spec = (o: Record<string, unknown>) => ParamSchema.parse(o);

describe('paramsJsonSchema', () => {
  it('maps every parameter rule, anchoring patterns like outloop does', () => {
    const params = {
      id: spec({ type: 'string', pattern: 'cus_[a-z]+|x', minLength: 2, maxLength: 9, description: 'the id' }),
      n: spec({ type: 'number', min: 0.5, max: 2, default: 1 }),
      k: spec({ type: 'integer', default: '3' }),
      b: spec({ type: 'boolean', default: 'true' }),
      e: spec({ type: 'enum', enum: ['a', 2] }),
    };
    expect(paramsJsonSchema(params)).toEqual({
      type: 'object',
      properties: {
        id: { type: 'string', description: 'the id', pattern: '^(?:cus_[a-z]+|x)$', minLength: 2, maxLength: 9 },
        n: { type: 'number', minimum: 0.5, maximum: 2, default: 1 },
        k: { type: 'integer', default: 3 },
        b: { type: 'boolean', default: true },
        e: { type: 'string', enum: ['a', '2'] },
      },
      required: ['id', 'e'],
      additionalProperties: false,
    });
    // The anchored pattern rejects what validateParams rejects: a match inside a longer value.
    const re = new RegExp(paramsJsonSchema(params).properties.id!.pattern!, 'u');
    expect(re.test('cus_abc; rm')).toBe(false);
    expect(validateParams({ id: params.id }, { id: 'cus_abc; rm' }).ok).toBe(false);
  });

  it('an empty parameter list is an empty closed object', () => {
    expect(paramsJsonSchema({})).toEqual({ type: 'object', properties: {}, required: [], additionalProperties: false });
  });
});

describe('toolName', () => {
  it('joins with _, replaces other characters and stops at 64', () => {
    expect(toolName('stripe', 'list-invoices')).toBe('stripe_list-invoices');
    expect(toolName('a.b', 'c d')).toBe('a_b_c_d');
    expect(toolName('s'.repeat(40), 'r'.repeat(40))).toHaveLength(64);
  });
});
