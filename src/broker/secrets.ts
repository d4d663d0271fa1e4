import { BackendError } from '../errors.js';
import type { BackendRegistry, SecretRef } from '../secrets/backend.js';
import { parseRef } from '../secrets/ref.js';
import type { SecretValue } from '../redact/index.js';

export interface ReadSecret extends SecretValue {
  /** The reference it came from, `{{tenant}}` expanded (never a value). */
  ref: string;
}

/** Every backend has its own timeout; this one stops a backend that forgot, so a request can't hang. */
export const BACKEND_TIMEOUT_MS = 30_000;

/**
 * Read the secrets an allowed plan needs, each reference at most once. Only the broker calls this, and
 * only after policy allowed the request and the start of the attempt is in the audit log.
 */
export async function readSecrets(
  refs: Record<string, string>,
  tenant: string,
  registry: BackendRegistry,
  timeoutMs = BACKEND_TIMEOUT_MS,
): Promise<ReadSecret[]> {
  const byRef = new Map<string, Promise<string>>();
  const out: ReadSecret[] = [];
  for (const [name, raw] of Object.entries(refs)) {
    const ref = parseRef(raw, tenant);
    let p = byRef.get(ref.raw);
    if (!p) {
      p = withTimeout(registry.get(ref.backend).then((b) => b.read(ref)), ref, timeoutMs);
      byRef.set(ref.raw, p);
    }
    out.push({ name, ref: ref.raw, value: await p });
  }
  return out;
}

function withTimeout(read: Promise<string>, ref: SecretRef, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendError(ref.backend, `the ${ref.backend} backend did not answer for ${ref.raw} within ${ms / 1000} s`, { code: 'backend_timeout', next: `Check that ${ref.backend} is reachable and unlocked, then retry.` })),
      ms,
    );
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}
