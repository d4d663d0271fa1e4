import { describe, expect, it } from 'vitest';
import { effectiveContract, intersectPicks, type OutputContract } from '../../src/output/contract.js';
import { parseJson, stringifyJson } from '../../src/output/json.js';
import { formatPath, parsePath } from '../../src/output/path.js';
import { findPii, ibanValid, luhnValid, type PiiKind } from '../../src/output/pii.js';
import { hashMask, shapeOutput } from '../../src/output/shape.js';

const KEY = Buffer.alloc(32, 7);
const contract = (c: Partial<OutputContract>): OutputContract => ({ format: 'json', mask: {}, pii: {}, ...c });
const shape = (raw: unknown, c: Partial<OutputContract>) => {
  const res = shapeOutput(typeof raw === 'string' ? raw : JSON.stringify(raw), contract(c), KEY);
  if (!res.ok) throw new Error(`not shaped: ${res.expected}`);
  return { ...res.shaped, value: JSON.parse(res.shaped.text) as unknown };
};
const pii = (text: string, ...kinds: PiiKind[]) => findPii(text, new Set(kinds.length ? kinds : ['email', 'phone', 'card', 'iban'])).map((h) => [h.kind, text.slice(h.start, h.end)]);

const INVOICES = {
  object: 'list',
  total_count: 2,
  data: [
    { id: 'in_1', customer: { email: 'ann@example.com', name: 'Ann' }, card: { number: '4242424242424242' }, amount: 100 },
    { id: 'in_2', customer: { email: 'bob@example.org', name: 'Bob' }, card: { number: '5555555555554444' }, amount: 250 },
  ],
};

describe('paths', () => {
  it('parses the documented syntax and spells it one way', () => {
    expect(parsePath('$.total_count')).toEqual([{ kind: 'key', name: 'total_count' }]);
    expect(parsePath('data[*].customer.email')).toEqual([{ kind: 'key', name: 'data' }, { kind: 'any' }, { kind: 'key', name: 'customer' }, { kind: 'key', name: 'email' }]);
    expect(parsePath('data[0]["odd key"]')).toEqual([{ kind: 'key', name: 'data' }, { kind: 'index', index: 0 }, { kind: 'key', name: 'odd key' }]);
    expect(formatPath(parsePath('$.data[*].id') as never)).toBe('data[*].id');
    expect(formatPath(parsePath('metadata.*') as never)).toBe('metadata[*]');
  });
  it('rejects what it does not know, with a message', () => {
    for (const bad of ['', 'a..b', 'a.', 'a[x]', 'a[', '$x', 'a[?(@.x)]', '9abc']) expect(typeof parsePath(bad)).toBe('string');
  });
});

describe('lossless JSON', () => {
  it('keeps big integers, key order and __proto__ as data', () => {
    const text = '{"b":1,"2":2,"id":12345678901234567890,"__proto__":{"x":1},"f":1.50e3}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });
  it('reports where, not what', () => {
    expect(() => parseJson('{"a": tru}')).toThrow(/character 6/);
    expect(() => parseJson('{"a":1} trailing')).toThrow(/end of the document/);
    expect(() => parseJson('"\u0001"')).toThrow();
  });
});

describe('pick', () => {
  it('keeps only the picked paths, arrays aligned', () => {
    const r = shape(INVOICES, { pick: ['data[*].id', 'data[*].customer.email', '$.total_count'] });
    expect(r.value).toEqual({ total_count: 2, data: [{ id: 'in_1', customer: { email: 'ann@example.com' } }, { id: 'in_2', customer: { email: 'bob@example.org' } }] });
    expect(r.picked).toBe(5);
  });
  it('an index picks one element; a picked object comes whole', () => {
    expect(shape(INVOICES, { pick: ['data[1].customer'] }).value).toEqual({ data: [{ customer: { email: 'bob@example.org', name: 'Bob' } }] });
  });
  it('an empty pick list lets nothing through', () => {
    expect(shape(INVOICES, { pick: [] }).value).toEqual({});
  });
});

describe('mask', () => {
  it('redact, partial and hash', () => {
    const r = shape(INVOICES, { mask: { 'data[*].customer.name': 'redact', 'data[*].card.number': 'partial', 'data[*].customer.email': 'hash' } });
    const d = (r.value as typeof INVOICES).data;
    expect(d[0]!.customer.name).toBe('[MASKED]');
    expect(d[0]!.card.number).toBe('****4242');
    expect(d[1]!.card.number).toBe('****4444');
    expect(d[0]!.customer.email).toMatch(/^hmac:[0-9a-f]{24}$/);
    expect(d[0]!.customer.email).not.toBe(d[1]!.customer.email);
    expect(r.masked).toBe(6);
    expect(r.text).not.toContain('ann@example.com');
  });
  it('hash is stable per key, so the agent can compare; another key gives another value', () => {
    const twice = { a: 'same@example.com', b: 'same@example.com' };
    const v = shape(twice, { mask: { a: 'hash', b: 'hash' } }).value as Record<string, string>;
    expect(v.a).toBe(v.b);
    const other = shapeOutput(JSON.stringify(twice), contract({ mask: { a: 'hash' } }), Buffer.alloc(32, 8));
    expect(other.ok && JSON.parse(other.shaped.text).a).not.toBe(v.a);
    expect(hashMask(KEY, 'x')).toBe(hashMask(KEY, 'x'));
  });
  it('partial never shows more than half of a short value', () => {
    expect(shape({ pin: '1234' }, { mask: { pin: 'partial' } }).value).toEqual({ pin: '****34' });
    expect(shape({ pin: 7 }, { mask: { pin: 'partial' } }).value).toEqual({ pin: '****' });
  });
  it('a mask on an object masks every scalar below it, and masks apply with pick', () => {
    const r = shape(INVOICES, { pick: ['data[*].customer'], mask: { 'data[*].customer': 'redact' } });
    expect(r.value).toEqual({ data: [{ customer: { email: '[MASKED]', name: '[MASKED]' } }, { customer: { email: '[MASKED]', name: '[MASKED]' } }] });
  });
});

describe('pii by kind', () => {
  it('finds real ones', () => {
    expect(pii('mail Ann.Lee+x@mail.example.co.uk now')).toEqual([['email', 'Ann.Lee+x@mail.example.co.uk']]);
    expect(pii('card 4242 4242 4242 4242 and 378282246310005')).toEqual([['card', '4242 4242 4242 4242'], ['card', '378282246310005']]);
    expect(pii('iban DE89 3704 0044 0532 0130 00, GB82WEST12345698765432')).toEqual([['iban', 'DE89 3704 0044 0532 0130 00'], ['iban', 'GB82WEST12345698765432']]);
    expect(pii('call +44 20 7946 0958 or (415) 555-0132 or 415-555-0132')).toEqual([['phone', '+44 20 7946 0958'], ['phone', '(415) 555-0132'], ['phone', '415-555-0132']]);
  });
  it('leaves look-alikes alone: ids, timestamps, uuids, bad checksums', () => {
    const lookalikes = [
      'ord_4242424242424242', // a card number inside an id
      'in_1MtHbELkdIwHu7ixl4OzzPMv',
      '1700000000000', // a timestamp in ms
      '1700000000', // in s
      '2026-11-24T01:10:56.123Z',
      '2026-11-24 01:10:56',
      '123e4567-e89b-12d3-a456-426614174000',
      '12345678-1234-1234-1234-123456789012',
      '4242424242424241', // fails Luhn
      'DE89370400440532013001', // fails mod-97
      'XX89370400440532013000', // no such country
      '415-555.0132', // mixed separators
      'v1.2.3 at 192.168.100.200',
      '+1', 'tel: 5550132',
      'id-4155550132',
      '#4155550132',
      'user@localhost',
      'amount 100000000000000',
    ];
    for (const s of lookalikes) expect(pii(s), s).toEqual([]);
  });
  it('checks the checksums', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424243')).toBe(false);
    expect(ibanValid('FR1420041010050500013M02606')).toBe(true);
    expect(ibanValid('FR1420041010050500013M02607')).toBe(false);
  });
  it('masks in strings, keys and card numbers sent as numbers; strategies per kind', () => {
    const doc = { note: 'reach ann@example.com or +1 415 555 0132', by_email: { 'bob@example.org': 1 }, pan: 4242424242424242, order: 'ord_4242424242424242' };
    const r = shape(doc, { pii: { email: 'redact', phone: 'partial', card: 'hash' } });
    const v = r.value as Record<string, unknown>;
    expect(v.note).toBe('reach [MASKED:email] or ****0132');
    expect(Object.keys(v.by_email as object)).toEqual(['[MASKED:email]']);
    expect(v.pan).toMatch(/^hmac:/);
    expect(v.order).toBe('ord_4242424242424242');
    expect(r.pii).toBe(4);
  });
  it('equal cards in different spellings hash alike', () => {
    const v = shape({ a: 'card 4242 4242 4242 4242', b: 'card 4242-4242-4242-4242' }, { pii: { card: 'hash' } }).value as Record<string, string>;
    expect(v.a).toBe(v.b);
  });
  it('text contracts mask pii in the whole text', () => {
    const res = shapeOutput('from ann@example.com\n', contract({ format: 'text', pii: { email: 'redact' } }), KEY);
    expect(res.ok && res.shaped.text).toBe('from [MASKED:email]\n');
  });
});

describe('non-JSON under a JSON contract', () => {
  it('is a failure with a position, and the caller gets no text', () => {
    const res = shapeOutput('<html>502 Bad Gateway secret-ish</html>', contract({ pick: ['a'] }), KEY);
    expect(res.ok).toBe(false);
    expect(JSON.stringify(res)).not.toContain('Bad Gateway');
  });
  it('empty output passes as empty', () => {
    const res = shapeOutput('', contract({ pick: ['a'] }), KEY);
    expect(res.ok && res.shaped.text).toBe('');
  });
  it('keeps the style: compact stays compact, pretty stays pretty, the final newline stays', () => {
    expect(shape('{"a":1,"b":2}\n', { pick: ['a'] }).text).toBe('{"a":1}\n');
    expect(shape('{\n  "a": 1,\n  "b": 2\n}', { pick: ['a'] }).text).toBe('{\n  "a": 1\n}');
  });
});

describe('a grant tightens, never loosens', () => {
  it('picks intersect (a path inside the other side\'s path stays)', () => {
    expect(intersectPicks(['data[*]', 'total_count'], ['data[*].id', 'has_more'])).toEqual(['data[*].id']);
    expect(intersectPicks(['data[0].id'], ['data[*]'])).toEqual(['data[0].id']);
    expect(intersectPicks(['a'], ['b'])).toEqual([]);
  });
  it('masks and pii add up with the stronger strategy; maxBytes takes the smaller', () => {
    const c = effectiveContract(
      { pick: ['data[*]'], mask: { 'data[*].email': 'hash', 'data[*].card': 'partial' }, pii: ['email'], maxBytes: 1000 },
      { pii: { card: 'partial', email: 'partial' }, maxBytes: 5000 },
      { pick: ['$.data[*].email', 'data[*].card', 'secret_field'], mask: { 'data[*].card': 'redact', '$.data[*].email': 'partial' }, maxBytes: 500 },
    );
    expect(c).toEqual({
      format: 'json',
      pick: ['data[*].card', 'data[*].email'],
      mask: { 'data[*].card': 'redact', 'data[*].email': 'hash' },
      pii: { email: 'redact', card: 'partial' },
      maxBytes: 500,
    });
  });
  it('a grant can add a contract to a recipe without one; none anywhere is none', () => {
    expect(effectiveContract(undefined, undefined, { pii: ['email'] })).toEqual({ format: 'text', mask: {}, pii: { email: 'redact' } });
    expect(effectiveContract(undefined, undefined, { mask: { a: 'redact' } })?.format).toBe('json');
    expect(effectiveContract(undefined, undefined, undefined)).toBeUndefined();
    expect(effectiveContract({}, undefined)?.format).toBe('json');
  });
});
