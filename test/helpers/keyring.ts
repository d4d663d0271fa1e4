/**
 * Whether a real Secret Service is reachable, for suites that need one. Run them under
 * scripts/with-keyring.sh (CI does); elsewhere they skip, except with CI=true, where a missing keyring is a
 * failure rather than a silent skip.
 */
import { spawnSync } from 'node:child_process';

export const CI = process.env.CI === 'true';

export function secretTool(args: string[], input?: string) {
  return spawnSync('secret-tool', args, { input, encoding: 'utf8', timeout: 15_000 });
}

/** Can this process reach a Secret Service that keeps what it is given? */
function probeKeyring(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return { ok: false, why: 'DBUS_SESSION_BUS_ADDRESS is not set' };
  // Unique per probe: suites probe concurrently, and workers may share a pid (threads pool).
  const attrs = ['service', 'outloop-test-probe', 'username', `${process.pid}-${Math.random().toString(36).slice(2)}`];
  const stored = secretTool(['store', '--label=outloop test probe', ...attrs], 'probe');
  if (stored.error || stored.status !== 0) return { ok: false, why: `secret-tool store failed: ${stored.error?.message ?? stored.stderr.trim()}` };
  const found = secretTool(['lookup', ...attrs]);
  secretTool(['clear', ...attrs]);
  if (found.status !== 0 || found.stdout !== 'probe') return { ok: false, why: 'secret-tool lookup did not return the probe item' };
  return { ok: true };
}

export const keyring = probeKeyring();

/** Skip the suite only where a missing keyring is allowed. */
export const skipWithoutKeyring = !keyring.ok && !CI;

export const KEYRING_REQUIRED = `gnome-keyring (a Secret Service) is required in CI: run the tests under scripts/with-keyring.sh${keyring.ok ? '' : ` (${keyring.why})`}`;

export function requireKeyring(): void {
  if (!keyring.ok) throw new Error(KEYRING_REQUIRED);
}
