import { describe, expect, it } from 'vitest';
import { parseRequestHead, parseResponseHead } from '../../src/sandbox/http1.js';

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
    const r = req('POST /a HTTP/1.1\r\nHost: a\r\nContent-LENGTH: 3\r\nX-Mixed: v\r\n\r\nabc');
    expect(r?.ok && r.head).toMatchObject({ raw: ['Host', 'a', 'Content-LENGTH', '3', 'X-Mixed', 'v'], lower: ['host', 'content-length', 'x-mixed'], framing: { kind: 'length', length: 3 } });
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
