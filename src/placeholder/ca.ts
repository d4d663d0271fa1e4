import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createFileExclusive } from '../fs/atomic.js';
import { join } from 'node:path';
import { Exit, OutloopError } from '../errors.js';
import { issue, newKey, spkiOf } from './x509.js';

/**
 * The per-install certificate authority of the placeholder proxy. Created on the first placeholder run:
 * an EC P-256 key and a self-signed certificate valid for ten years, kept together in one 0600 file in
 * the state folder (personal mode: readable by the user the agent runs as, which is what doctor says;
 * system mode: the daemon's state folder, out of the agent's reach). Created beside and hard-linked into
 * place, so two first runs at once agree on one CA and neither overwrites the other's.
 */
export const CA_FILE = 'placeholder-ca.key';
const CA_CN = 'Outloop placeholder CA';

export interface Ca {
  key: KeyObject;
  certPem: string;
  spki: Buffer;
  file: string;
}

export function caFile(stateDir: string): string {
  return join(stateDir, CA_FILE);
}

export function loadOrCreateCa(stateDir: string, now = new Date()): Ca {
  const file = caFile(stateDir);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw caError(file, err);
  }
  if (text === undefined) {
    const { privateKey, publicKey } = newKey();
    const { certPem } = issue({
      publicKey, subjectCn: CA_CN, issuerKey: privateKey, issuerCn: CA_CN, issuerSpki: spkiOf(publicKey), ca: true,
      notBefore: new Date(now.getTime() - 86_400_000), notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
    });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      // Another run may create it at the same moment: whichever file got there first is the CA.
      createFileExclusive(file, keyPem + certPem);
    } catch (err) {
      throw caError(file, err);
    }
    text = readFileSync(file, 'utf8');
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  if (!keyPem || !certPem) throw caError(file, new Error('not a key and certificate'));
  const key = createPrivateKey(keyPem);
  return { key, certPem: certPem.endsWith('\n') ? certPem : `${certPem}\n`, spki: spkiOf(createPublicKey(key)), file };
}

function caError(file: string, err: unknown): OutloopError {
  return new OutloopError('placeholder_ca_unreadable', Exit.config, `the placeholder CA ${file} cannot be used (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
    next: `Remove ${file} to let outloop create a new one (children of earlier runs trusted the old one only for their run).`,
  });
}

/** Leaf certificates for the hosts a run's proxy terminates TLS for, one key for all, each issued once. */
export class LeafIssuer {
  private readonly leafKey = newKey();
  private readonly cache = new Map<string, { certPem: string; keyPem: string }>();
  private readonly keyPem: string;

  constructor(private readonly ca: Ca) {
    this.keyPem = this.leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  }

  leaf(host: string): { certPem: string; keyPem: string } {
    const h = host.toLowerCase();
    let got = this.cache.get(h);
    if (!got) {
      const now = Date.now();
      const { certPem } = issue({
        publicKey: this.leafKey.publicKey, subjectCn: h, issuerKey: this.ca.key, issuerCn: CA_CN, issuerSpki: this.ca.spki, ca: false,
        hosts: [h], notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 7 * 86_400_000),
      });
      got = { certPem: certPem + this.ca.certPem, keyPem: this.keyPem };
      this.cache.set(h, got);
    }
    return got;
  }
}
