import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Just enough DER to issue X.509 v3 certificates with EC P-256 keys: node:crypto makes the keys and
 * the ECDSA signature, but has no certificate builder, and a dependency (node-forge, @peculiar/x509)
 * would cost more load time than these few dozen lines. The extensions are the ones strict verifiers
 * (OpenSSL's X509_STRICT, which Python 3.13 turns on) insist on: basicConstraints critical on the CA,
 * keyUsage, subject and authority key identifiers, and a subjectAltName on each leaf.
 */
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
const explicit = (n: number, ...p: Buffer[]) => tlv(0xa0 + n, ...p);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  cn: '2.5.4.3',
  org: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  san: '2.5.29.17',
  ski: '2.5.29.14',
  aki: '2.5.29.35',
};

const name = (cn: string, org: string) =>
  seq(set(seq(oid(OID.org), tlv(0x0c, Buffer.from(org)))), set(seq(oid(OID.cn), tlv(0x0c, Buffer.from(cn)))));
const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [TRUE] : []), octets(value));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined as unknown as string];
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

export interface Issued {
  certPem: string;
  certDer: Buffer;
}

export interface CertSpec {
  /** The subject's public key. */
  publicKey: KeyObject;
  subjectCn: string;
  /** Signer: the CA's key and name (self-signed when it is the subject's own). */
  issuerKey: KeyObject;
  issuerCn: string;
  issuerSpki: Buffer;
  ca: boolean;
  /** DNS names or IP addresses for subjectAltName (leaves). */
  hosts?: string[];
  notBefore: Date;
  notAfter: Date;
}

const ORG = 'Outloop placeholder proxy';
const keyId = (spki: Buffer) => createHash('sha1').update(spki).digest();

export function issue(spec: CertSpec): Issued {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const alg = seq(oid(OID.ecdsaSha256));
  const exts = [
    ext(OID.basicConstraints, true, spec.ca ? seq(TRUE) : seq()),
    // CA: keyCertSign + cRLSign; leaf: digitalSignature.
    ext(OID.keyUsage, true, spec.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    ext(OID.ski, false, octets(keyId(spki))),
    ext(OID.aki, false, seq(tlv(0x80, keyId(spec.issuerSpki)))),
  ];
  if (!spec.ca) {
    exts.push(ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth))));
    const names = (spec.hosts ?? []).map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h.toLowerCase()))));
    exts.push(ext(OID.san, false, seq(...names)));
  }
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))),
    uint(serial),
    alg,
    name(spec.issuerCn, ORG),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subjectCn, ORG),
    spki,
    explicit(3, seq(...exts)),
  );
  const sig = sign('sha256', tbs, spec.issuerKey);
  const certDer = seq(tbs, alg, bits(sig));
  const b64 = certDer.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return { certDer, certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n` };
}

export function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

export { createPrivateKey };
