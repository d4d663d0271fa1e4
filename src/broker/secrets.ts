import type { BackendRegistry } from '../secrets/backend.js';
import { parseRef } from '../secrets/ref.js';
import type { SecretValue } from '../redact/index.js';

/**
 * Read the secrets an allowed plan needs, each reference at most once. Only the broker calls this, and
 * only after policy allowed the request and the start of the attempt is in the audit log.
 */
export async function readSecrets(refs: Record<string, string>, tenant: string, registry: BackendRegistry): Promise<SecretValue[]> {
  const byRef = new Map<string, Promise<string>>();
  const out: SecretValue[] = [];
  for (const [name, raw] of Object.entries(refs)) {
    const ref = parseRef(raw, tenant);
    let p = byRef.get(ref.raw);
    if (!p) {
      p = registry.get(ref.backend).then((b) => b.read(ref));
      byRef.set(ref.raw, p);
    }
    out.push({ name, value: await p });
  }
  return out;
}
