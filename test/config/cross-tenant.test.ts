import { describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';

const config = (acmeRef: string, extra = '') => `tenants:
  acme:
    projects: [/w/acme]
    services:
      stripe:
        secrets:
          STRIPE_KEY: ${acmeRef}
        allow: ["*"]
${extra}  globex:
    projects: [/w/globex]
    services:
      stripe:
        secrets: { STRIPE_KEY: "local:globex/stripe" }
        allow: ["*"]
`;

function problems(text: string): { line?: number; message: string }[] {
  try {
    validateConfigText('/c/config.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe("a grant binding another tenant's secret reference", () => {
  it('local:globex/... under acme: an error at its line', () => {
    expect(problems(config('local:globex/stripe'))).toEqual([
      expect.objectContaining({
        line: 7,
        message: 'tenants.acme.services.stripe.secrets.STRIPE_KEY is local:globex/stripe, a reference under tenant "globex": a grant of "acme" may not bind another tenant\'s secret unless it says shared: true',
      }),
    ]);
  });

  it('the same in another backend, and a 1Password vault named like the tenant', () => {
    expect(problems(config('keychain:globex/stripe'))).toHaveLength(1);
    expect(problems(config('"op://Globex/Stripe/credential"'))).toHaveLength(1);
  });

  it('allowed where the grant says shared: true', () => {
    expect(problems(config('local:globex/stripe', '').replace('        allow: ["*"]\n  globex', '        allow: ["*"]\n        shared: true\n  globex'))).toEqual([]);
  });

  it("a tenant's own references, {{tenant}} and names of no tenant pass", () => {
    expect(problems(config('local:acme/stripe'))).toEqual([]);
    expect(problems(config('"local:{{tenant}}/stripe"'))).toEqual([]);
    expect(problems(config('local:team/stripe'))).toEqual([]);
  });
});
