import { describe, expect, it } from 'vitest';
import { FieldCache, parseRequestHead, parseResponseHead } from '../../src/sandbox/http1.js';

/**
 * The strict head parser's refusal order (src/sandbox/http1.ts): a complete head is not scanned for bare
 * CR, LF or NUL up front (every line pattern admits none of them), so whichever check fails first, a head
 * holding one is still refused as such. relay.test.ts covers each refusal through the proxy.
 */
const req = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'));
const res = (s: string) => parseResponseHead(Buffer.from(s, 'latin1'), 'GET');
const BARE = 'a bare CR, LF or NUL in the head';

describe('http1 heads', () => {
  it('names a bare CR, LF or NUL before the check that tripped on it', () => {
    // The target check comes before the header lines are read: the LF further down still wins.
    expect(req('GET http://evil.example/ HTTP/1.1\r\nHost: a\r\nX-A: b\nc\r\n\r\n')).toEqual({ ok: false, why: BARE });
    expect(req('GET http://evil.example/ HTTP/1.1\r\nHost: a\r\n\r\n')).toEqual({ ok: false, why: 'a request target that is not a path' });
    expect(req('GET /a HTTP/1.1\r\nHost: a\r\n folded\rmore\r\n\r\n')).toEqual({ ok: false, why: BARE });
    expect(req('GET /a HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n')).toEqual({ ok: false, why: 'a folded header line (obs-fold)' });
    expect(req('GET /a HTTP/1.1 x\r\nHost: a\0\r\n\r\n')).toEqual({ ok: false, why: BARE });
    expect(req('GET /a HTTP/1.1\r\nHost : a\r\nX: \0\r\n\r\n')).toEqual({ ok: false, why: BARE });
    expect(res('HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n')).toEqual({ ok: false, why: BARE });
    expect(res('HTTP/1.1 2000 OK\r\nX-A: \0\r\n\r\n')).toEqual({ ok: false, why: BARE });
  });

  it('gives lower-cased names beside the raw ones, and the framing', () => {
    const r = req('POST /a HTTP/1.1\r\nHost: a\r\nContent-LENGTH: 3\r\nX-Mixed:  v \t\r\n\r\nabc');
    expect(r?.ok && r.head.fields.map((f) => [f.name, f.lower, f.value])).toEqual([['Host', 'host', 'a'], ['Content-LENGTH', 'content-length', '3'], ['X-Mixed', 'x-mixed', 'v']]);
    expect(r?.ok && r.head.framing).toEqual({ kind: 'length', length: 3 });
  });

  it('parses the same with a connection\'s cache of header lines, a line seen before or not, and refuses a bad line every time', () => {
    const heads = [
      'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      'GET /b HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n',
      'GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
      'GET /b HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nBad Line\r\n\r\n',
      'GET /b HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',
      'GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    ];
    const replies = ['HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n'];
    const requests = new FieldCache();
    const answers = new FieldCache();
    const strip = <T>(r: T) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'fields' ? v.map((f: { name: string; value: string }) => [f.name, f.value]) : v))) as T;
    for (let round = 0; round < 3; round++) {
      for (const h of heads) expect(strip(parseRequestHead(Buffer.from(h, 'latin1'), requests))).toEqual(strip(req(h)));
      for (const h of replies) expect(strip(parseResponseHead(Buffer.from(h, 'latin1'), 'GET', answers))).toEqual(strip(res(h)));
    }
    // The refusals are the parser's own, not lost to the cache.
    expect(parseRequestHead(Buffer.from(heads[4]!, 'latin1'), requests)).toEqual({ ok: false, why: 'a malformed header line' });
    expect(parseRequestHead(Buffer.from(heads[5]!, 'latin1'), requests)).toEqual({ ok: false, why: 'a folded header line (obs-fold)' });
    // The same line is the same object from the cache: what its owner made of it stays with it.
    const a = parseRequestHead(Buffer.from(heads[0]!, 'latin1'), requests);
    const b = parseRequestHead(Buffer.from(heads[0]!, 'latin1'), requests);
    expect(a?.ok && b?.ok && a.head.fields.every((f, i) => f === b.head.fields[i])).toBe(true);
  });

  it('reads a reply\'s framing from the header tokens, not the header lines', () => {
    // An empty Transfer-Encoding names no coding: the length frames the reply.
    const frame = (h: string) => {
      const r = res(`HTTP/1.1 200 OK\r\n${h}\r\n\r\n`);
      return r?.ok ? r.head.framing : r;
    };
    expect(frame('Transfer-Encoding: \r\nContent-Length: 3')).toEqual({ kind: 'length', length: 3 });
    expect(frame('Content-Length: 5, 5')).toEqual({ kind: 'length', length: 5 });
    expect(frame('Content-Length: 5\r\nContent-Length: 5')).toEqual({ kind: 'length', length: 5 });
    expect(frame('Content-Length: 5, 6')).toEqual({ ok: false, why: 'an unusable Content-Length' });
    expect(frame('Content-Length: ,')).toEqual({ kind: 'close' });
    expect(frame('Transfer-Encoding: gzip, chunked')).toEqual({ kind: 'chunked' });
    expect(frame('Transfer-Encoding: chunked, gzip')).toEqual({ kind: 'close' });
  });
});
