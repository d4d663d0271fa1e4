import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { patternProblem } from '../../src/recipe/pattern.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * Bad config and recipes (issue 19 item 7): each is 78 with file:line, at once, in exec and in
 * `recipes lint`; never 70 "internal error", never a hang.
 */
const GOOD = `service: cf
recipes:
  say:
    description: echoes
    params:
      v: { type: string, pattern: "[a-z]+" }
    run: [echo, "{{params.v}}"]
`;

function recipeWith(param: string, extra = ''): string {
  return `service: cf
recipes:
  say:
    description: echoes
    params:
      v: ${param}
    run: [echo, "{{params.v}}"]
${extra}`;
}

describe('bad config and recipes', () => {
  let e: E2E;
  let good: string;
  beforeAll(() => {
    e = makeE2E(['acme']);
    good = configYaml(e, { acme: 'cf:\n  allow: ["*"]\n  sandbox: off' });
  });
  beforeEach(() => {
    rmSync(join(e.home, 'config.yaml'), { force: true });
    e.writeConfig(good);
    e.writeRecipe('cf', GOOD);
  });
  afterAll(() => e?.cleanup());

  const expect78 = async (file: string, line: number | undefined, text: RegExp, args = ['exec', 'cf.say', '-p', 'v=abc']) => {
    const r = await e.cli(args, { timeoutMs: 15_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(78);
    // exec says it on stderr; `recipes lint` lists its findings on stdout.
    const said = r.stderr + r.stdout;
    expect(said).not.toContain('internal error');
    expect(said).toContain(line === undefined ? file : `${file}:${line}`);
    expect(said).toMatch(text);
  };

  it('the good files run', async () => {
    expect((await e.cli(['exec', 'cf.say', '-p', 'v=abc'])).status).toBe(0);
  });

  it('config.yaml: an alias bomb, an undefined alias, deep flow and deep block nesting', async () => {
    const file = join(e.home, 'config.yaml');
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    writeFileSync(file, bomb);
    await expect78(file, 2, /aliases expand to too much/);
    writeFileSync(file, `${good}recordRetention: *nope\n`);
    await expect78(file, good.split('\n').length, /Unresolved alias/);
    writeFileSync(file, `tenants: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    await expect78(file, 1, /nested more than 64 levels/);
    writeFileSync(file, `tenants:\n${Array.from({ length: 1500 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')}\n`);
    await expect78(file, undefined, /nested more than 64 levels/);
  });

  it('config.yaml that is a FIFO or /dev/urandom: refused at once, not read', async () => {
    const file = join(e.home, 'config.yaml');
    rmSync(file);
    execFileSync('mkfifo', [file]);
    await expect78(file, undefined, /not a regular file/);
    rmSync(file);
    symlinkSync('/dev/urandom', file);
    await expect78(file, undefined, /not a regular file/);
    rmSync(file);
    writeFileSync(file, `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    await expect78(file, undefined, /larger than/);
  });

  it('a recipe whose pattern is not a valid regex, with a default: 78 in exec and in recipes lint', async () => {
    const file = join(e.home, 'recipes', 'cf.yaml');
    e.writeRecipe('cf', recipeWith('{ type: string, pattern: "([a-z", default: "x" }'));
    await expect78(file, 6, /not a valid regular expression/);
    await expect78(file, 6, /not a valid regular expression/, ['recipes', 'lint']);
  });

  it('a super-linear pattern like (a+)+b is refused at lint and exec, at once', async () => {
    const file = join(e.home, 'recipes', 'cf.yaml');
    e.writeRecipe('cf', recipeWith('{ type: string, pattern: "(a+)+b" }'));
    await expect78(file, 6, /exponential time/, ['exec', 'cf.say', '-p', `v=${'a'.repeat(40)}c`]);
    await expect78(file, 6, /exponential time/, ['recipes', 'lint']);
    // In a tenant's tightening of a parameter too.
    e.writeRecipe('cf', GOOD);
    e.writeConfig(configYaml(e, { acme: 'cf:\n  allow: ["*"]\n  sandbox: off\n  params: { v: { pattern: "(\\\\w+\\\\s?)*" } }' }));
    await expect78(join(e.home, 'config.yaml'), undefined, /exponential time/);
  });

  it('a timeout of 24.9 days is refused at lint (Node timers cannot wait that long: the child would be killed at once)', async () => {
    const file = join(e.home, 'recipes', 'cf.yaml');
    e.writeRecipe('cf', `${GOOD}    timeout: 24.9d\n`);
    await expect78(file, 8, /longer than 24 days/, ['recipes', 'lint']);
    await expect78(file, 8, /longer than 24 days/);
    e.writeRecipe('cf', `${GOOD}    timeout: 23d\n`);
    expect((await e.cli(['exec', 'cf.say', '-p', 'v=abc'])).status).toBe(0);
  });
});

describe('the nested-repetition check', () => {
  it('refuses the exponential shapes and keeps the everyday ones', () => {
    for (const p of ['(a+)+b', '(a*)*', '(a?)+', '(\\w+\\s?)*', '(a|aa)+', '(?:x|y)*', '((a|b)c)*', '(?<n>a+){2,}', '(,a+|b+)+', '(,[a-z,]+)+', '(,?[a-z]+)+', '([a-z]+,)*']) expect(patternProblem(p), p).toMatch(/exponential/);
    for (const p of ['[a-z0-9_-]+', 'cus_[A-Za-z0-9]+', '(?:ab)+', '\\d{4}-\\d{2}-\\d{2}', '[(]+', '\\(a+\\)+', 'in_[0-9]{1,3}', '(foo|bar)', '[\\p{L} ]+', '(,[A-Za-z0-9_.:/-]{1,200}){0,19}', '(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+', '(/[^/]+)+']) expect(patternProblem(p), p).toBeUndefined();
  });
});
