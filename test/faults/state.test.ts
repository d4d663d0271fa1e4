import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * Corrupted state fails closed (issue 19 item 6): a wrong-shape budgets.json or approvals.json stops the
 * request with exit 70, the store's code, the file and the first problem named and a next step. Never a
 * silent reset (the budget starts again, a denial is forgotten), never "l.filter is not a function".
 */
const RECIPES = `service: st
recipes:
  hello:
    description: prints hello
    risk: read
    run: [echo, hello]
  change:
    description: a write that needs approval
    risk: write
    run: [echo, changed]
`;

describe('corrupted state files', () => {
  let e: E2E;
  let state: string;
  beforeAll(() => {
    e = makeE2E(['acme']);
    e.writeRecipe('st', RECIPES);
    e.writeConfig(configYaml(e, { acme: 'st:\n  allow: ["*"]\n  rate: 100/h\n  approve: { risk: write }\n  sandbox: off' }));
    state = e.home;
  });
  afterAll(() => e?.cleanup());

  it('finds the state folder the budgets are kept in', async () => {
    const r = await e.cli(['exec', 'st.hello']);
    expect(r.status).toBe(0);
    expect(existsSync(join(state, 'budgets.json'))).toBe(true);
  });

  for (const bad of ['[]', '123', 'null', '"x"', '{"st": "many"}', '{"st": [1, "2"]}', '{"st": {"length": 5}}']) {
    it(`budgets.json ${bad}: exec and check stop with budget_unavailable and a next step; the file is left as it was`, async () => {
      const file = join(state, 'budgets.json');
      writeFileSync(file, bad);
      for (const args of [['exec', 'st.hello', '--json'], ['check', 'st.hello', '--json']]) {
        const r = await e.cli(args);
        expect(r.status).toBe(70);
        const env = JSON.parse(r.stdout) as Record<string, string>;
        expect(env.code).toBe('budget_unavailable');
        expect(env.reason).toContain(file);
        expect(env.reason).toContain('not in the shape outloop writes');
        expect(env.reason).not.toMatch(/is not a function|internal error|Cannot read/);
        expect(env.next).toContain('aside');
        expect(r.stdout).not.toContain('hello');
      }
      expect(readFileSync(file, 'utf8')).toBe(bad);
      writeFileSync(file, '{}');
    });
  }

  for (const bad of ['{}', '123', 'null', '[1]', '[null]', '[{"id": "ap_1"}]', '[{"id":"ap_1","key":"k","tenant":"acme","service":"st","recipe":"change","risk":"write","params":{},"recipeSha256":"x","createdAt":1,"expiresAt":1,"ttlMs":1,"reasonRequired":false,"status":"maybe"}]']) {
    it(`approvals.json ${bad.slice(0, 40)}: a request needing approval stops with approvals_unavailable`, async () => {
      const file = join(state, 'approvals.json');
      writeFileSync(file, bad);
      const r = await e.cli(['exec', 'st.change', '--json']);
      expect(r.status).toBe(70);
      const env = JSON.parse(r.stdout) as Record<string, string>;
      expect(env.code).toBe('approvals_unavailable');
      expect(env.reason).toContain(file);
      expect(env.reason).not.toMatch(/is not a function|internal error/);
      expect(env.next).toContain('aside');
      const list = await e.cli(['approvals', '--json']);
      expect(list.status).toBe(70);
      expect(list.stdout + list.stderr).not.toMatch(/is not a function|internal error/);
      expect(readFileSync(file, 'utf8')).toBe(bad);
    });
  }
});
