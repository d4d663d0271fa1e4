import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyedLine, keyedLinkOf, keyedTail } from '../../src/audit/chain.js';

describe('the keyed link', () => {
  it('is HMAC-SHA256 of the line without its hash member, for keys of any length', () => {
    for (const key of [randomBytes(32), randomBytes(64), randomBytes(100), Buffer.alloc(0)]) {
      const body = JSON.stringify({ id: 'ol_x', tenant: 'acmé', secretExposed: false, chain: 'hmac-sha256', prev: '0'.repeat(64) });
      const { hash, line } = keyedLine(key, body);
      expect(hash).toBe(createHmac('sha256', key).update(body, 'utf8').digest('hex'));
      expect(keyedLinkOf(key, line)).toBe(hash);
      expect(keyedTail(line)).toEqual({ prev: '0'.repeat(64), hash });
    }
  });

  it('keyedTail refuses a line that does not end in the keyed shape', () => {
    const ok = `{"a":1,"chain":"hmac-sha256","prev":"${'a'.repeat(64)}","hash":"${'b'.repeat(64)}"}`;
    expect(keyedTail(ok)).toBeDefined();
    expect(keyedTail(ok.replace('hmac-sha256', 'hmac-sha255'))).toBeUndefined();
    
    expect(keyedTail(`${ok} `)).toBeUndefined();
    expect(keyedTail(ok.slice(ok.indexOf(',')))).toBeUndefined();
  });
});
