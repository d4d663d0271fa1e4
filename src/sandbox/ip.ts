import { isIP, type BlockList } from 'node:net';

/**
 * Which addresses the egress proxy treats as "inside": anything that is not the public internet. A name
 * that resolves to one of these is refused unless a host entry names the address itself, so a DNS answer
 * (a rebinding attack, a hostile resolver, a typo'd internal name) cannot open the LAN, the metadata
 * service (169.254.169.254) or outloop's own machine.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'cgnat' | 'reserved' | 'multicast';

const RANGES: [AddressClass, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['cgnat', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '100::', 64, 'ipv6'],
  ['reserved', '2001:db8::', 32, 'ipv6'],
];

const lists = new Map<AddressClass, BlockList>();
for (const [cls, net, prefix, type] of RANGES) {
  let l = lists.get(cls);
  // net.BlockList is a lazy getter that loads two modules: read only when an address is classified, not
  // by every process that imports node:net (the system-mode client among them).
  if (!l) lists.set(cls, (l = new (process.getBuiltinModule('node:net').BlockList)()));
  l.addSubnet(net, prefix, type);
}

/** The IPv4 address an IPv6 form carries (::ffff:a.b.c.d mapped, 64:ff9b::/96 NAT64, ::a.b.c.d compatible). */
function embeddedV4(ip: string): string | undefined {
  const m = /^(?:::ffff:(?:0:)?|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1];
  // The same, written in hex groups: ::ffff:7f00:1
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (h) {
    const hi = Number.parseInt(h[1]!, 16);
    const lo = Number.parseInt(h[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

export function classifyIp(raw: string): AddressClass {
  const ip = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 0) throw new Error(`not an IP address: ${raw}`);
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4 !== undefined) return classifyIp(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [cls, list] of lists) if (list.check(ip, type)) return cls;
  return 'public';
}

/** The same address, written one way, so `[::1]`, `::1` and `0:0::1` compare equal. */
export function canonicalIp(raw: string): string {
  const ip = raw.replace(/^\[|\]$/g, '');
  if (isIP(ip) !== 6) return ip;
  const v4 = embeddedV4(ip);
  if (v4 !== undefined) return v4;
  // Expand to eight groups, then let URL's serializer pick the canonical short form.
  return new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '');
}
