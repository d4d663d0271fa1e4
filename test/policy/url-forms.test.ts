import { describe, expect, it } from 'vitest';
import { checkUrl, findUrls } from '../../src/policy/hosts.js';

/**
 * URLs a browser (the WHATWG parser) reads with a host although they lack `scheme://`: each names
 * evil.example, and each must be found in a parameter's text and denied at the host gate.
 */
const allowed = ['api.example.com'];
const gate = (text: string) => findUrls(text).map((u) => checkUrl(u, allowed));

describe('malformed and scheme-less URLs at the host gate', () => {
  const evil: [string, string][] = [
    ['//evil.example/x', 'scheme-relative'],
    ['\\\\evil.example\\x', 'scheme-relative with backslashes'],
    ['http:/evil.example/x', 'one slash'],
    ['http:\\\\evil.example\\x', 'backslashes'],
    ['https:\\evil.example', 'one backslash'],
    ['HTTP:/evil.example', 'upper-case scheme'],
    ['http:///evil.example/x', 'three slashes'],
    ['--url=//evil.example/x', 'after ='],
    ['x="//evil.example"', 'quoted'],
    ['ws:/evil.example/socket', 'websocket, one slash'],
  ];
  for (const [text, form] of evil) {
    it(`${form}: ${text}`, () => {
      const verdicts = gate(text);
      expect(verdicts.length).toBeGreaterThan(0);
      expect(verdicts.some((v) => v?.host === 'evil.example')).toBe(true);
    });
  }

  it('the same forms naming an allowed host pass', () => {
    for (const text of ['//api.example.com/x', 'http:/api.example.com/x', 'https:\\\\api.example.com/x']) {
      expect(gate(text)).toEqual([undefined]);
    }
    // A backslash inside the authority is read differently by browsers and curl: refused whatever the host.
    expect(gate('https:\\\\api.example.com\\x')[0]?.why).toContain('backslash');
  });

  it('a backslash before @ in the one-slash form cannot hide the host', () => {
    expect(gate('http:/api.example.com\\@evil.example/')[0]?.why).toContain('backslash');
  });

  it('what is not a URL is left alone', () => {
    for (const text of ['PATH=/usr/bin:/bin', 'a // b', '/a//b', 'C:\\Users\\x', 'key:/value', 'jq .a//"x"']) expect(findUrls(text)).toEqual([]);
    expect(findUrls('https://api.example.com//x')).toEqual(['https://api.example.com//x']);
  });
});
