import { describe, expect, it } from 'vitest';
import { addressRefusal, matchEntry, parseEntry } from '../../src/sandbox/egress-rules.js';
import { canonicalIp, classifyIp } from '../../src/sandbox/ip.js';

describe('host entries on the wire', () => {
  const hosts = ['api.stripe.com', '*.example.com', 'files.example.org:8443', '127.0.0.1:9000', '[::1]:9001', 'localhost:7000'];
  const m = (h: string, p: number) => matchEntry(h, String(p), hosts)?.raw;

  it('an entry without a port means 443 and 80 only', () => {
    expect(m('api.stripe.com', 443)).toBe('api.stripe.com');
    expect(m('api.stripe.com', 80)).toBe('api.stripe.com');
    expect(m('api.stripe.com', 22)).toBeUndefined();
    expect(m('API.Stripe.COM.', 443)).toBe('api.stripe.com');
  });
  it('wildcards match subdomains only, not the apex nor look-alikes', () => {
    expect(m('a.example.com', 443)).toBe('*.example.com');
    expect(m('a.b.example.com', 443)).toBe('*.example.com');
    expect(m('example.com', 443)).toBeUndefined();
    expect(m('evilexample.com', 443)).toBeUndefined();
    expect(m('example.com.evil.net', 443)).toBeUndefined();
  });
  it('an explicit port is the only port', () => {
    expect(m('files.example.org', 8443)).toBe('files.example.org:8443');
    expect(m('files.example.org', 443)).toBeUndefined();
  });
  it('an IP is matched only by an entry that is that IP, in any spelling', () => {
    expect(m('127.0.0.1', 9000)).toBe('127.0.0.1:9000');
    expect(m('127.0.0.1', 9002)).toBeUndefined();
    expect(m('::1', 9001)).toBe('[::1]:9001');
    expect(m('0:0::1', 9001)).toBe('[::1]:9001');
    expect(m('::ffff:127.0.0.1', 9000)).toBe('127.0.0.1:9000');
    // A wildcard never matches a dotted address by its suffix.
    expect(matchEntry('10.0.0.1', '443', ['*.0.0.1'])).toBeUndefined();
  });
  it('parses entries with and without ports', () => {
    expect(parseEntry('[::1]:9001')).toEqual({ raw: '[::1]:9001', host: '::1', port: '9001' });
    expect(parseEntry('a.b')).toEqual({ raw: 'a.b', host: 'a.b', port: undefined });
  });
});

describe('address classes', () => {
  it.each([
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['2606:4700::1111', 'public'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['172.32.0.1', 'public'], ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['100.64.0.1', 'cgnat'], ['fd00::1', 'private'], ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'], ['::ffff:7f00:1', 'loopback'], ['64:ff9b::169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
  ])('%s is %s', (ip, cls) => expect(classifyIp(ip)).toBe(cls));

  it('canonical forms compare equal', () => {
    expect(canonicalIp('[0:0:0:0:0:0:0:1]')).toBe('::1');
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });

  it('an inside address needs an entry that names it (or localhost for loopback)', () => {
    const byName = parseEntry('api.example.com');
    expect(addressRefusal(byName, '93.184.216.34')).toBeUndefined();
    expect(addressRefusal(byName, '10.0.0.5')).toEqual({ cls: 'private' });
    expect(addressRefusal(byName, '127.0.0.1')).toEqual({ cls: 'loopback' });
    expect(addressRefusal(byName, '169.254.169.254')).toEqual({ cls: 'link-local' });
    expect(addressRefusal(parseEntry('10.0.0.5:443'), '10.0.0.5')).toBeUndefined();
    expect(addressRefusal(parseEntry('10.0.0.5:443'), '10.0.0.6')).toEqual({ cls: 'private' });
    expect(addressRefusal(parseEntry('localhost:7000'), '127.0.0.1')).toBeUndefined();
    expect(addressRefusal(parseEntry('localhost:7000'), '::1')).toBeUndefined();
    expect(addressRefusal(parseEntry('localhost:7000'), '192.168.0.1')).toEqual({ cls: 'private' });
  });
});
