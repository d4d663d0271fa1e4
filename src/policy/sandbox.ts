import type { ServiceGrant, TenantConfig } from '../config/schema.js';

/**
 * The sandbox requirement, pure. The machine fact (is a sandbox available here?) is found by the broker
 * (sandbox/detect.ts) and passed in, so policy never imports the sandbox or the runner, and a request
 * that must be sandboxed is denied before any secret backend is touched.
 */
export type SandboxMode = 'required' | 'auto' | 'off';

/** The service grant's setting wins over the tenant's; unset means auto. */
export function sandboxMode(tenant: Pick<TenantConfig, 'sandbox'> | undefined, grant: Pick<ServiceGrant, 'sandbox'> | undefined): SandboxMode {
  return grant?.sandbox ?? tenant?.sandbox ?? 'auto';
}

export type SandboxVerdict = { ok: true; detail: string } | { ok: false; reason: string; next: string };

/** `available` undefined means nobody looked: for `required` that is a denial (fail closed). */
export function sandboxVerdict(mode: SandboxMode, available: boolean | undefined, where: string): SandboxVerdict {
  if (mode === 'off') return { ok: true, detail: `sandbox off (${where}): no sandbox and no egress proxy, hosts are checked in the command only` };
  if (available) return { ok: true, detail: 'enforced on the wire: sandboxed, the egress proxy is the only way out' };
  if (mode === 'required') {
    return {
      ok: false,
      reason: `${where} requires a sandbox, and none is available on this machine`,
      next: 'Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and make sure unprivileged user namespaces are allowed; `outloop doctor` checks it.',
    };
  }
  return { ok: true, detail: 'ADVISORY here: no sandbox available, the child is only asked to use the egress proxy (HTTP(S)_PROXY)' };
}

/** The mode for a request, when the tenant has a grant for the service (else nothing will run: no probe). */
export function sandboxModeFor(
  tenants: Record<string, Pick<TenantConfig, 'sandbox' | 'services'>>,
  tenant: string | undefined,
  service: string,
): SandboxMode | undefined {
  const t = tenant !== undefined && Object.hasOwn(tenants, tenant) ? tenants[tenant] : undefined;
  const services = t?.services ?? {};
  return t && Object.hasOwn(services, service) ? sandboxMode(t, services[service]) : undefined;
}

/**
 * `outloop run` is sandboxed only when the effective setting is `required`, written by the tenant or the
 * grant: a wrapped script is the user's own and usually needs the user's files, tools and network (a
 * deploy script reading ~/.kube, a test runner reaching a local database), so `auto` (the default) would
 * break most scripts on a machine with bubblewrap and leave them working elsewhere. `required` is the
 * person who wrote the grant saying "this script gets the project folder and the service's hosts only".
 */
export function runSandboxed(tenant: Pick<TenantConfig, 'sandbox'> | undefined, grant: Pick<ServiceGrant, 'sandbox'> | undefined): boolean {
  return sandboxMode(tenant, grant) === 'required';
}
