import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchored, checkValue, isRequired, validateParams, type ParamResult } from '../../src/recipe/params.js';
import { ParamSchema, type ParamSpec } from '../../src/recipe/schema.js';

/** Specs go through the real schema so defaults (type: string) apply as they do when loading a recipe. */
const spec = (s: Record<string, unknown>): ParamSpec => ParamSchema.parse(s);
const one = (s: Record<string, unknown>, v: string) => checkValue('p', spec(s), v);
const ok = (r: ReturnType<typeof checkValue>): string => {
  if (typeof r !== 'string') throw new Error(`rejected: ${r.message}`);
  return r;
};
const failure = (r: ParamResult) => {
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.values)}`);
  return r.failure;
};

describe('typed parameter values', () => {
  it('integer: digits only, canonical text, range inclusive', () => {
    const s = { type: 'integer', min: 1, max: 100 };
    expect(ok(one(s, '1'))).toBe('1');
    expect(ok(one(s, '100'))).toBe('100');
    expect(ok(one(s, '007'))).toBe('7');
    for (const bad of ['0', '101', '1.5', '1e2', '0x10', ' 5', '5 ', '', '+5', '٣']) {
      const r = one(s, bad);
      expect(typeof r, bad).toBe('object');
      if (typeof r === 'object') expect(r.param).toBe('p');
    }
    expect(typeof one({ type: 'integer' }, '99999999999999999999')).toBe('object');
    expect(ok(one({ type: 'integer' }, '-3'))).toBe('-3');
  });

  it('number: decimals and exponents, no Infinity or NaN', () => {
    const s = { type: 'number', min: -1, max: 2.5 };
    expect(ok(one(s, '2.5'))).toBe('2.5');
    expect(ok(one(s, '.5'))).toBe('0.5');
    expect(ok(one(s, '-1'))).toBe('-1');
    expect(ok(one(s, '1e0'))).toBe('1');
    for (const bad of ['2.51', '-1.01', 'NaN', 'Infinity', '1,5', 'abc', '']) expect(typeof one(s, bad), bad).toBe('object');
    expect(typeof one({ type: 'number' }, '1e400')).toBe('object');
  });

  it('boolean: exactly true or false', () => {
    expect(ok(one({ type: 'boolean' }, 'true'))).toBe('true');
    expect(ok(one({ type: 'boolean' }, 'false'))).toBe('false');
    for (const bad of ['True', '1', 'yes', '']) expect(typeof one({ type: 'boolean' }, bad), bad).toBe('object');
  });

  it('enum: one of the listed values, numbers compared as text', () => {
    const s = { type: 'enum', enum: ['open', 'paid', 3] };
    expect(ok(one(s, 'paid'))).toBe('paid');
    expect(ok(one(s, '3'))).toBe('3');
    const r = one(s, 'void');
    expect(typeof r === 'object' && r.message).toContain('"open", "paid", "3"');
    expect(typeof one(s, 'PAID')).toBe('object');
  });

  it('string pattern is anchored: [0-9]+ rejects 12abc and abc12', () => {
    const s = { pattern: '[0-9]+' };
    expect(ok(one(s, '12'))).toBe('12');
    for (const bad of ['12abc', 'abc12', '12\n', '12; rm -rf /', '']) expect(typeof one(s, bad), JSON.stringify(bad)).toBe('object');
    // Alternation must not escape the anchors: ^(?:a|b)$, not ^a|b$.
    expect(typeof one({ pattern: 'a|b' }, 'ab')).toBe('object');
    expect(typeof one({ pattern: 'a|b' }, 'xb')).toBe('object');
    expect(anchored('a|b').test('b')).toBe(true);
  });

  it('minLength / maxLength', () => {
    const s = { minLength: 2, maxLength: 4 };
    expect(ok(one(s, 'ab'))).toBe('ab');
    expect(ok(one(s, 'abcd'))).toBe('abcd');
    expect(typeof one(s, 'a')).toBe('object');
    expect(typeof one(s, 'abcde')).toBe('object');
  });

  it('property: an integer inside [min, max] is accepted as itself, outside is rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -500, max: 0 }), fc.integer({ min: 0, max: 500 }), (n, min, max) => {
        const r = one({ type: 'integer', min, max }, String(n));
        if (n >= min && n <= max) expect(r).toBe(String(n));
        else expect(typeof r).toBe('object');
      }),
    );
  });
});

describe('validateParams', () => {
  const specs = {
    limit: spec({ type: 'integer', default: 10, min: 1, max: 100 }),
    customer: spec({ pattern: '^cus_[A-Za-z0-9]+$', required: false }),
    status: spec({ type: 'enum', enum: ['open', 'paid'] }),
    draft: spec({ type: 'boolean', default: false }),
  };

  it('uses defaults, leaves an optional parameter out, canonicalises given values', () => {
    const r = validateParams(specs, { status: 'open', limit: '05' });
    expect(r).toEqual({ ok: true, values: { limit: '5', status: 'open', draft: 'false' } });
  });

  it('a required parameter with no default must be given, and the message says how', () => {
    const f = failure(validateParams(specs, {}));
    expect(f.param).toBe('status');
    expect(f.message).toContain('missing required parameter "status"');
    expect(f.message).toContain('-p status=');
  });

  it('required: true with a default still accepts the default', () => {
    const s = spec({ type: 'integer', default: 3, required: true });
    expect(isRequired(s)).toBe(true);
    expect(validateParams({ n: s }, {})).toEqual({ ok: true, values: { n: '3' } });
  });

  it('an unknown parameter is named with the ones the recipe takes', () => {
    const f = failure(validateParams(specs, { status: 'open', limt: '5' }));
    expect(f.param).toBe('limt');
    expect(f.message).toContain('"limt"');
    expect(f.message).toContain('limit, customer, status, draft');
    expect(failure(validateParams({}, { x: '1' })).message).toContain('takes no parameters');
  });

  it('an inherited property name is not a parameter', () => {
    expect(failure(validateParams(specs, { status: 'open', constructor: 'x' })).param).toBe('constructor');
    // fromEntries makes __proto__ an own key, as parsing `-p __proto__=x` into an object would.
    expect(failure(validateParams(specs, Object.fromEntries([['status', 'open'], ['__proto__', 'x']]))).param).toBe('__proto__');
  });

  it('a bad value names the parameter and the rule', () => {
    const f = failure(validateParams(specs, { status: 'open', customer: 'cus_1; DROP' }));
    expect(f.param).toBe('customer');
    expect(f.message).toContain('"customer"');
    expect(f.message).toContain('^cus_[A-Za-z0-9]+$');
  });

  it('a control character is refused for every type, even when the pattern would allow it', () => {
    for (const s of [spec({ pattern: '[\\s\\S]*' }), spec({ type: 'enum', enum: ['a\nb'] }), spec({})]) {
      const r = checkValue('p', s, 'a\nb');
      expect(typeof r === 'object' && r.message).toContain('control character');
    }
  });

  it('a long bad value is shortened in the message', () => {
    const r = one({ pattern: '[0-9]+' }, 'x'.repeat(500));
    expect(typeof r === 'object' && r.message.length).toBeLessThan(200);
  });
});
