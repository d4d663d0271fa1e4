import { describe, expect, it } from 'vitest';
import { Substituter, type PlaceholderSecret } from '../../src/placeholder/substitute.js';
import { lintRecipeText } from '../../src/recipe/lint.js';

const gh: PlaceholderSecret = { name: 'GH', service: 'github', sentinel: 'ghp_SENTINELsentinel0123456789abcdefgh', value: 'ghp_REAL"value\\with/odd+chars0123456', hosts: ['api.github.com', '*.githubusercontent.com'], surfaces: new Set(['header', 'basic']) };
const st: PlaceholderSecret = { name: 'ST', service: 'stripe', sentinel: 'sk_live_SENTINEL0123456789abcdef', value: 'sk_live_REAL0123456789abcdefXYZ', hosts: ['api.stripe.com'], surfaces: new Set(['header', 'basic', 'query', 'body']) };
const sub = new Substituter([gh, st]);

describe('Substituter', () => {
  it('Bearer and any header, towards the secret\'s own hosts only', () => {
    const r = sub.headers(['Authorization', `Bearer ${gh.sentinel}`, 'X-Other', 'plain'], 'api.github.com', 443);
    expect(r).toEqual({ ok: true, value: ['Authorization', `Bearer ${gh.value}`, 'X-Other', 'plain'], counts: [{ secret: 'GH', surface: 'header', count: 1 }] });
    expect(sub.headers(['Authorization', `Bearer ${gh.sentinel}`], 'raw.githubusercontent.com', 443).ok).toBe(true);
    const wrong = sub.headers(['Authorization', `Bearer ${gh.sentinel}`], 'api.stripe.com', 443);
    expect(wrong).toMatchObject({ ok: false, surface: 'header', secret: { name: 'GH' } });
    expect(sub.headers(['X-Key', gh.sentinel], 'evil.example', 443).ok).toBe(false);
    // Another port is another host.
    expect(sub.headers(['X-Key', gh.sentinel], 'api.github.com', 8443).ok).toBe(false);
  });

  it('the hosts a leaf can be made for ahead of time: named ones, normalised, no wildcards, each once', () => {
    const more: PlaceholderSecret = { ...st, name: 'ST2', hosts: ['API.Stripe.com.', '[::1]:8443', '127.0.0.1:4443'] };
    expect(new Substituter([gh, st, more]).exactHosts()).toEqual(['api.github.com', 'api.stripe.com', '::1', '127.0.0.1']);
  });

  it('Basic: decoded, swapped, re-encoded; a wrong host is refused even base64-encoded', () => {
    const enc = Buffer.from(`x-access-token:${gh.sentinel}`).toString('base64');
    const r = sub.headers(['authorization', `Basic ${enc}`], 'api.github.com', 443);
    if (!r.ok) throw new Error('refused');
    expect(Buffer.from(r.value[1]!.slice(6), 'base64').toString()).toBe(`x-access-token:${gh.value}`);
    expect(r.counts).toEqual([{ secret: 'GH', surface: 'basic', count: 1 }]);
    expect(sub.headers(['authorization', `Basic ${enc}`], 'evil.example', 443)).toMatchObject({ ok: false, surface: 'basic' });
  });

  it('query and body only where listed; JSON and form bodies get the value encoded for them', () => {
    expect(sub.target(`/v1/x?key=${st.sentinel}`, 'api.stripe.com', 443)).toMatchObject({ ok: true, value: `/v1/x?key=${st.value}` });
    // GH lists no query: left as it is (the API sees the useless sentinel).
    expect(sub.target(`/x?t=${gh.sentinel}`, 'api.github.com', 443)).toMatchObject({ ok: true, value: `/x?t=${gh.sentinel}`, counts: [] });
    expect(sub.target(`/x?t=${gh.sentinel}`, 'api.stripe.com', 443)).toMatchObject({ ok: false });
    const ghSt = new Substituter([{ ...gh, surfaces: new Set(['body']) }]);
    const j = ghSt.body(Buffer.from(`{"t":"${gh.sentinel}"}`), 'application/json', 'api.github.com', 443);
    expect(j.ok && JSON.parse(j.value.toString()).t).toBe(gh.value);
    const f = ghSt.body(Buffer.from(`t=${gh.sentinel}&a=1`), 'application/x-www-form-urlencoded', 'api.github.com', 443);
    expect(f.ok && new URLSearchParams(f.value.toString()).get('t')).toBe(gh.value);
  });

  it('a streamed body to another host: the sentinel is found across chunk seams', () => {
    const scan = sub.scanner('uploads.example', 443);
    const text = `....${st.sentinel}....`;
    expect(scan(Buffer.from(text.slice(0, 12)))).toBeUndefined();
    expect(scan(Buffer.from(text.slice(12)))?.name).toBe('ST');
    // Its own host's scanner ignores it (streamed unchanged: body not swapped for GH).
    expect(sub.scanner('api.stripe.com', 443)(Buffer.from(st.sentinel))).toBeUndefined();
  });

  it('mask() hides sentinels in what is recorded', () => {
    expect(sub.mask(`x ${st.sentinel} y`)).toBe('x [PLACEHOLDER:ST] y');
  });
});

describe('recipe files: placeholders', () => {
  const file = (extra: string) => `service: s\nhosts: [api.s.com]\nsecrets: [KEY]\n${extra}recipes:\n  r:\n    description: d\n    run: ["true"]\n`;
  it('lists surfaces per declared secret; an undeclared secret or an unknown surface is an error', () => {
    const ok = lintRecipeText('/r/s.yaml', file('placeholders:\n  KEY: { substitute: [header, body] }\n'));
    expect(ok.problems).toEqual([]);
    expect(ok.recipes[0]!.placeholders).toEqual({ KEY: ['header', 'body'] });
    const bad = lintRecipeText('/r/s.yaml', file('placeholders:\n  OTHER: { substitute: [header] }\n'));
    expect(bad.problems.map((p) => p.message)).toEqual(['placeholders.OTHER names a secret the file does not declare in secrets']);
    const surf = lintRecipeText('/r/s.yaml', file('placeholders:\n  KEY: { substitute: [cookie] }\n'));
    expect(surf.problems.length).toBe(1);
    expect(lintRecipeText('/r/s.yaml', file('placeholders:\n  KEY: {}\n')).recipes[0]!.placeholders).toEqual({ KEY: ['header', 'basic'] });
  });
});
