import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkValue } from '../../src/recipe/params.js';
import { ParamSchema } from '../../src/recipe/schema.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/** Bad params and flags (issue 19 item 8): each a clear error at once. */
const RECIPES = `service: pf
recipes:
  say:
    description: echoes its parameter
    params:
      text: { type: string }
    run: [echo, "{{params.text}}"]
  num:
    description: echoes a number
    params:
      n: { type: number }
    run: [echo, "{{params.n}}"]
`;

describe('bad params and flags', () => {
  let e: E2E;
  beforeAll(() => {
    e = makeE2E(['acme', 'globex']);
    e.writeRecipe('pf', RECIPES);
    e.writeConfig(configYaml(e, { acme: 'pf:\n  allow: ["*"]\n  sandbox: off', globex: 'pf:\n  allow: ["*"]\n  sandbox: off' }));
  });
  afterAll(() => e?.cleanup());

  it('--tenant= (empty) is a usage error, on exec and check, and so is OUTLOOP_TENANT= ; nothing runs', async () => {
    for (const [args, env] of [[['exec', 'pf.say', '-p', 'text=hi', '--tenant='], {}], [['exec', 'pf.say', '-p', 'text=hi', '--tenant', ''], {}], [['check', 'pf.say', '--tenant='], {}], [['exec', 'pf.say', '-p', 'text=hi'], { OUTLOOP_TENANT: '' }]] as const) {
      const r = await e.cli([...args], { env });
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toContain('[empty_tenant]');
      expect(r.stderr).toContain('next:');
      expect(r.stdout).not.toContain('hi');
    }
    // A real assertion still works both ways.
    expect((await e.cli(['exec', 'pf.say', '-p', 'text=hi', '--tenant=acme'])).status).toBe(0);
    expect((await e.cli(['exec', 'pf.say', '-p', 'text=hi', '--tenant=globex'])).status).toBe(77);
  });

  it('tab, line separators and format characters are refused (65), naming the code point', async () => {
    for (const [ch, cp] of [['\t', 'U+0009'], ['\u2028', 'U+2028'], ['\u2029', 'U+2029'], ['\u202e', 'U+202E'], ['\u200b', 'U+200B'], ['\ufeff', 'U+FEFF'], ['\u0085', 'U+0085'], ['\u2066', 'U+2066']]) {
      const r = await e.cli(['exec', 'pf.say', '-p', `text=a${ch}b`, '--json']);
      expect(r.status, cp).toBe(65);
      const env = JSON.parse(r.stdout) as Record<string, string>;
      expect(env.code).toBe('bad_param');
      expect(env.reason).toContain(cp);
    }
    // Emoji sequences keep their zero-width joiner.
    const ok = await e.cli(['exec', 'pf.say', '-p', 'text=\u{1F469}\u200d\u{1F4BB}']);
    expect(ok.status).toBe(0);
  });

  it('a 100,000-digit number is refused at once (it took tens of seconds: a quadratic regex)', async () => {
    const r = await e.cli(['exec', 'pf.num', '-p', `n=${'1'.repeat(100_000)}x`], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(65);
  }, 25_000);

  it('fuzz: no parameter value of any type takes long to check (pure, 200,000 characters)', () => {
    const specs = [{ type: 'number' }, { type: 'integer' }, { type: 'string' }, { type: 'boolean' }, { type: 'string', pattern: '[a-z0-9_-]+' }].map((s) => ParamSchema.parse(s));
    const shapes = ['1'.repeat(200_000) + 'x', '1.'.repeat(100_000), `.${'1'.repeat(200_000)}e`, `${'1'.repeat(100_000)}e${'1'.repeat(99_999)}-`, '-'.repeat(200_000), 'a'.repeat(200_000) + '!'];
    for (const spec of specs) for (const v of shapes) checkValue('v', spec, v);
  }, 5_000);
});
