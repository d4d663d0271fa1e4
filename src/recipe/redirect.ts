import type { RenderedCommand } from './render.js';

/**
 * The test-only origin rewrite behind `BrokerDeps.testOnlyRedirect`. The recipe library's tests run every
 * built-in recipe for real against a local server standing in for the vendor; this swaps the vendor's
 * origin (`https://api.stripe.com`) for the local one in what will run. It exists only as a field of the
 * broker's in-process API: no environment variable, flag or config key reaches it, because redirecting a
 * host in a normal run would hand the credential to whoever listens there. It is applied after the policy
 * (the host gate) judged the real URLs, so the tests exercise exactly the decision a real run gets.
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
