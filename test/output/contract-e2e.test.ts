import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, filesContaining, leakForms, makeE2E, plantedSecret } from '../e2e/helpers.js';
import { shopRecipe, startJsonApi, type JsonApi } from './api.js';

/**
 * Output contracts end to end: the built CLI, real curl, a local JSON API that echoes the token. What
 * reaches the agent is the redacted output with the contract applied, and nothing else.
 */
describe('output contracts, end to end', () => {
  let e: E2E;
  let api: JsonApi;
  const token = plantedSecret('shop');
  const CONTRACT = `{ pick: ["data[*].id", "data[*].customer", "data[*].echo", "data[*].order", "data[*].created", "$.total_count", "big_id", "escaped", "note"],
      mask: { "data[*].customer.email": hash, "data[*].customer.name": redact }, pii: [phone, card, iban] }`;

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    api = await startJsonApi(token);
    e.writeRecipe('shop', shopRecipe(api.port, {
      invoices: { path: '/v1/invoices', output: CONTRACT },
      page: { path: '/v1/html', output: '{ format: json }' },
      big: { path: '/v1/big', output: '{ maxBytes: 4096 }' },
      raw: { path: '/v1/invoices' },
    }));
    e.writeConfig(configYaml(e, {
      acme: 'shop:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]',
      globex: 'shop:\n  secrets: { TOKEN: "local:globex/token" }\n  allow: ["*"]\n  output:\n    invoices: { pick: ["data[*].id", "data[*].customer.email", "secret_field"], mask: { "data[*].customer.email": redact }, maxBytes: 100000 }\n    "*": { pii: [email] }',
    }));
    await e.setSecret('local:acme/token', token);
    await e.setSecret('local:globex/token', token);
  });
  afterAll(async () => {
    await api?.close();
    e?.cleanup();
  });

  it('picks, masks by path and by kind, after redaction; ids, timestamps and big numbers pass unchanged', async () => {
    const r = await e.cli(['exec', 'shop.invoices'], { cwd: e.projects.acme });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & { data: Record<string, any>[] };
    expect(Object.keys(doc).sort()).toEqual(['big_id', 'data', 'escaped', 'note', 'total_count']);
    expect(r.stdout).toContain('"big_id":12345678901234567890');
    expect(doc.data.map((d) => d.id)).toEqual(['in_1', 'in_2']);
    expect(doc.data.map((d) => d.order)).toEqual(['ord_4242424242424242', 'ord_5555555555554444']);
    expect(doc.data.map((d) => d.created)).toEqual([1700000000000, 1700000000001]);
    // Same email, same fingerprint: the agent can still tell the two invoices share a customer.
    expect(doc.data[0]!.customer.email).toMatch(/^hmac:[0-9a-f]{24}$/);
    expect(doc.data[0]!.customer.email).toBe(doc.data[1]!.customer.email);
    expect(doc.data[0]!.customer.name).toBe('[MASKED]');
    expect(doc.data.map((d) => d.customer.phone)).toEqual(['[MASKED:phone]', '[MASKED:phone]']);
    expect(doc.note).toBe('card on file [MASKED:card], iban [MASKED:iban]');
    expect(doc.data[0]!.echo).toBe('Bearer [REDACTED:TOKEN]');
    // The API escaped the token's first character; parsing decoded it, and the second redaction pass caught it.
    expect(doc.escaped).toBe('[REDACTED:TOKEN]');
    for (const s of [token, 'ann@example.com', 'Ann Lee', '7946 0958', '4242 4242']) expect(r.stdout).not.toContain(s);

    const end = e.audit().filter((a) => a.id && a.phase === 'end').at(-1)!;
    expect(end).toMatchObject({ decision: 'allow', exitCode: 0, shaped: { format: "json", picked: 14, masked: 4, pii: 4 } });
    expect((end.redactions as number) >= 3).toBe(true);
  });

  it('--json carries the shaped output in the envelope', async () => {
    const r = await e.cli(['exec', 'shop.invoices', '--json'], { cwd: e.projects.acme });
    expect(r.status).toBe(0);
    const env = JSON.parse(r.stdout) as { stdout: string };
    expect(JSON.parse(env.stdout).data[0].customer.name).toBe('[MASKED]');
    expect(r.stdout).not.toContain(token);
  });

  it('non-JSON under a JSON contract is a readable error (65) that never shows the output', async () => {
    for (const json of [false, true]) {
      const r = await e.cli(['exec', 'shop.page', ...(json ? ['--json'] : [])], { cwd: e.projects.acme });
      expect(r.status).toBe(65);
      expect(r.stdout + r.stderr).not.toContain('unique-marker-html');
      expect(r.stdout + r.stderr).not.toContain('upstream');
      if (json) {
        expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'output_not_json', next: expect.stringContaining('audit show') });
      } else {
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^outloop: shop\.page \(exit 0\) printed \d+ bytes that are not JSON .*\[output_not_json\]\nnext: /);
      }
    }
    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ phase: 'end', decision: 'error', code: 'output_not_json', exitCode: 65 });
    expect(JSON.stringify(e.audit())).not.toContain('unique-marker-html');
  });

  it('maxBytes stops the child as soon as the output passes it', async () => {
    const r = await e.cli(['exec', 'shop.big'], { cwd: e.projects.acme });
    expect(r.status).toBe(65);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('[output_too_large]');
    // The server would stream for 10 s; curl was stopped after a few KiB.
    expect(r.ms).toBeLessThan(6000);
    await new Promise((res) => setTimeout(res, 100));
    expect(api.bigWritten()).toBeLessThan(64 * 1024);
  });

  it('a grant tightens: picks intersect, the stronger mask wins, "*" adds pii to every recipe', async () => {
    const check = await e.cli(['check', 'shop.invoices', '--json'], { cwd: e.projects.globex });
    expect(check.status).toBe(0);
    const c = JSON.parse(check.stdout) as { output: unknown };
    expect(c.output).toEqual({
      format: 'json',
      pick: ['data[*].customer.email', 'data[*].id'],
      mask: { 'data[*].customer.email': 'redact', 'data[*].customer.name': 'redact' },
      pii: { email: 'redact', phone: 'redact', card: 'redact', iban: 'redact' },
      maxBytes: 100000,
    });
    const r = await e.cli(['exec', 'shop.invoices'], { cwd: e.projects.globex });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ data: [{ id: 'in_1', customer: { email: '[MASKED]' } }, { id: 'in_2', customer: { email: '[MASKED]' } }] });
    // A recipe with no contract of its own gets the grant's: pii over the text.
    const raw = await e.cli(['exec', 'shop.raw'], { cwd: e.projects.globex });
    expect(raw.status).toBe(0);
    expect(raw.stdout).toContain('[MASKED:email]');
    expect(raw.stdout).not.toContain('ann@example.com');
    const dry = await e.cli(['exec', 'shop.invoices', '--dry-run'], { cwd: e.projects.globex });
    expect(dry.stdout).toContain('output: json; pick data[*].customer.email, data[*].id;');
  });

  it('no secret in any form anywhere under the home', () => {
    expect(filesContaining(e.home, token)).toEqual([]);
    expect(leakForms(token)).toHaveLength(4);
  });
});
