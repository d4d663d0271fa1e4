import type { RenderedCommand } from './render.js';

/**
 * Whole-origin rewrites in what will run. Two users:
 * - a grant's `baseUrl` (decide.ts withBaseUrl): applied inside policy, so the host gate judges the
 *   rewritten URLs against that grant's widened hosts;
 * - the test-only redirect behind `BrokerDeps.testOnlyRedirect`: the recipe library's tests run every
 *   built-in recipe for real against a local stand-in. It exists only as a field of the broker's in-process
 *   API (no environment variable, flag or config key reaches it), because redirecting a host behind the
 *   policy's back would hand the credential to whoever listens there; it is applied after the host gate.
 */
export function redirectOrigins(cmd: RenderedCommand, redirect: ReadonlyMap<string, string>): RenderedCommand {
  const swap = (text: string): string => {
    let out = text;
    for (const [from, to] of redirect) {
      // Only a whole origin: https://api.stripe.com must not also rewrite https://api.stripe.com.evil.
      out = out.replace(new RegExp(`${escapeRegExp(from)}(?=[/?#"'\\s]|$)`, 'g'), to);
    }
    return out;
  };
  const map = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, swap(v)]));
  return {
    argv: cmd.argv.map(swap),
    env: map(cmd.env),
    stdin: cmd.stdin === undefined ? undefined : swap(cmd.stdin),
    files: map(cmd.files),
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
