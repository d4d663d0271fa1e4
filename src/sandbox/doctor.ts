import type { Config } from '../config/schema.js';
import { sandboxMode } from '../policy/sandbox.js';
import { detectSandbox } from './detect.js';

/**
 * doctor's sandbox line: whether this machine can sandbox a child, and so whether the hosts allow-list is
 * enforced on the wire or only advisory here. A grant that requires a sandbox on a machine without one
 * is a failure: every one of its requests will be denied.
 */
export function sandboxFinding(
  path: string | undefined,
  platform: NodeJS.Platform,
  config: Config | undefined,
  tenant: string | null,
): { severity: 'ok' | 'warn' | 'fail'; message: string; fix?: string } {
  const fact = detectSandbox(path, platform);
  if (fact.available) {
    return { severity: 'ok', message: `sandbox: ${fact.kind} (${fact.path}); exec children reach only their service's hosts, through the egress proxy` };
  }
  const t = tenant && config && Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant]! : undefined;
  const required = t ? Object.entries(t.services).filter(([, g]) => sandboxMode(t, g) === 'required').map(([s]) => s) : [];
  const fix = platform === 'linux' ? 'Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces.' : 'Run outloop on Linux with bubblewrap, or macOS.';
  if (required.length) {
    return { severity: 'fail', message: `no sandbox here (${fact.why}), and ${required.join(', ')} require${required.length === 1 ? 's' : ''} one: their requests are denied (sandbox_unavailable)`, fix };
  }
  return { severity: 'warn', message: `no sandbox here (${fact.why}): the hosts allow-list is ADVISORY on this machine (children are only asked to use the egress proxy)`, fix };
}
