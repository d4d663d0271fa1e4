import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendContext, SecretRef } from '../../src/secrets/backend.js';
import { parseRef } from '../../src/secrets/ref.js';

/** A scratch folder per test; the state dir inside it does not exist yet, as on a fresh machine. */
export function scratch(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'outloop-store-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function makeCtx(stateDir: string, over: Partial<BackendContext> = {}): BackendContext {
  return {
    env: {},
    stateDir,
    storeFile: join(stateDir, 'store.json'),
    storeKeyFile: join(stateDir, 'store.key'),
    storeKey: 'file',
    ...over,
  };
}

export function ref(raw: string): SecretRef {
  return parseRef(raw);
}

/** A value unlike anything else in the files, so finding it (or an encoding of it) means a leak. */
export function secretValue(tag = 'x'): string {
  return `sk_live_${tag}_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

/** Every way a value could sit in a file in clear or trivially encoded. */
export function encodingsOf(value: string): Buffer[] {
  const raw = Buffer.from(value, 'utf8');
  return [raw, Buffer.from(raw.toString('base64')), Buffer.from(raw.toString('base64url')), Buffer.from(raw.toString('hex'))];
}
