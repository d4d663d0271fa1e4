import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml, quoteFlowDashes } from '../../src/config/yaml.js';
import { ConfigError } from '../../src/errors.js';
import { lintRecipeText } from '../../src/recipe/lint.js';
import { listRecipeFiles, loadService } from '../../src/recipe/load.js';
import type { LintResult } from '../../src/recipe/types.js';
import { colOf, lineOf, useTempDirs, write } from './helpers.js';

const tempDir = useTempDirs();
const FILE = '/recipes/demo.yaml';

const lint = (text: string, file = FILE): LintResult => lintRecipeText(file, text);
const errors = (r: LintResult) => r.problems.filter((p) => p.severity !== 'warning');
const warnings = (r: LintResult) => r.problems.filter((p) => p.severity === 'warning');

/** A valid file; each test changes one thing, so each problem found is that change's. */
const BASE = `service: demo
hosts: [api.example.com]
secrets: [TOKEN]
recipes:
  list:
    description: List things
    risk: read
    params:
      limit: { type: integer, default: 10, min: 1, max: 100 }
    run: [curl, -sS, -K, -, "https://api.example.com/v1/things?limit={{params.limit}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    timeout: 30s
`;

describe('recipe lint', () => {
  it('the base file is clean and loads as the contract describes', () => {
    const r = lint(BASE);
    expect(r.problems).toEqual([]);
    expect(r.service).toBe('demo');
    const rec = r.recipes[0]!;
    expect(rec).toMatchObject({ name: 'list', risk: 'read', timeoutMs: 30_000, secrets: ['TOKEN'], hosts: ['api.example.com'], dir: '/recipes' });
    expect(rec.fileSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a lone "-" in a flow list is the string "-" (curl -K - reads its config from stdin)', () => {
    const run = lint(BASE).recipes[0]!.run.map((t) => t.source);
    expect(run).toEqual(['curl', '-sS', '-K', '-', 'https://api.example.com/v1/things?limit={{params.limit}}']);
    expect(parseYaml('/x.yaml', 'run: [curl, -K, -, "https://x"]\n').value).toEqual({ run: ['curl', '-K', '-', 'https://x'] });
    // Block lists and dashes inside strings are untouched.
    expect(parseYaml('/x.yaml', 'a:\n  - b\n  - "-"\nc: "x - y"\nd: [a-b, "-", -1]\n').value).toEqual({ a: ['b', '-'], c: 'x - y', d: ['a-b', '-', -1] });
    expect(quoteFlowDashes('a: [-, -]\n')).toEqual({ text: 'a: ["-", "-"]\n', inserted: [4, 9] });
  });

  it('{{secrets.X}} in run is an error at its line: argv is visible to ps', () => {
    const text = BASE.replace('"https://api.example.com/v1/things?limit={{params.limit}}"', '"https://api.example.com/v1?key={{secrets.TOKEN}}"');
    const errs = errors(lint(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain('{{secrets.TOKEN}} may not appear in run');
    expect(errs[0]?.line).toBe(lineOf(text, 'run:'));
    expect(errs[0]?.file).toBe(FILE);
  });

  it('reports the line of the offending element in a block-style run list, and the column', () => {
    const text = BASE.replace(
      '    run: [curl, -sS, -K, -, "https://api.example.com/v1/things?limit={{params.limit}}"]\n',
      '    run:\n      - curl\n      - -K\n      - "-"\n      - "https://api.example.com/{{secrets.TOKEN}}?l={{params.limit}}"\n',
    );
    const errs = errors(lint(text));
    expect(errs.map((e) => [e.line, e.col])).toEqual([[lineOf(text, '{{secrets.TOKEN}}?'), colOf(text, '"https://api.example.com/{{secrets')]]);
  });

  // Regression (was a bug): src/config/yaml.ts parseYaml builds its LineCounter over quoteFlowDashes(text), which turns each
  // lone `-` into `"-"` (+2 characters). Every column reported after such a dash on the same line is 2 too
  // far right (and one more per extra dash): for the contract's own `run: [curl, -K, -, "https://..."]`
  // the URL element is reported at col N+2. Fix: map offsets in the rewritten text back to the original
  // (subtract 2 per insertion before the offset) before converting to line:col, or count lines on `text`.
  it('columns after a lone "-" in a flow list point at the original text', () => {
    const text = BASE.replace('"https://api.example.com/v1/things?limit={{params.limit}}"', '"https://api.example.com/v1?key={{secrets.TOKEN}}"');
    const errs = errors(lint(text));
    expect(errs[0]?.col).toBe(colOf(text, '"https://api.example.com/v1?key='));
  });

  it('an unknown placeholder is an error naming it, at its line', () => {
    const text = BASE.replace('limit={{params.limit}}', 'limit={{params.limit}}&t={{tenant_id}}');
    const errs = errors(lint(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain('unknown placeholder {{tenant_id}}');
    expect(errs[0]?.line).toBe(lineOf(text, '{{tenant_id}}'));
  });

  it('known non-parameter placeholders are accepted', () => {
    const text = BASE.replace('"https://api.example.com/v1/things?limit={{params.limit}}"', '"https://api.example.com/{{tenant}}?l={{params.limit}}", "{{recipe.dir}}/x", "{{project}}"');
    expect(errors(lint(text))).toEqual([]);
  });

  it('an unclosed placeholder is an error', () => {
    const text = BASE.replace('limit={{params.limit}}', 'limit={{params.limit');
    const errs = errors(lint(text));
    expect(errs.some((e) => e.message.includes('unclosed placeholder'))).toBe(true);
  });

  it('an undeclared parameter or secret is an error at its line', () => {
    const p = BASE.replace('limit={{params.limit}}', 'limit={{params.limit}}&c={{params.cursor}}');
    const perr = errors(lint(p));
    expect(perr.map((e) => [e.line, e.message])).toEqual([[lineOf(p, '{{params.cursor}}'), '{{params.cursor}} is not declared under params']]);

    const s = BASE.replace('Bearer {{secrets.TOKEN}}', 'Bearer {{secrets.API_KEY}}');
    const serr = errors(lint(s));
    expect(serr).toHaveLength(1);
    expect(serr[0]?.message).toContain('{{secrets.API_KEY}} is not declared');
    expect(serr[0]?.line).toBe(lineOf(s, 'stdin:'));
  });

  it('a default that fails its own rules is an error at the default', () => {
    const text = BASE.replace('default: 10, min: 1', 'default: 500, min: 1');
    const errs = errors(lint(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain('default fails its own rules');
    expect(errs[0]?.message).toContain('"limit"');
    expect(errs[0]?.line).toBe(lineOf(text, 'default: 500'));
    expect(errs[0]?.col).toBe(colOf(text, '500'));
  });

  it('the file must be named after its service', () => {
    const errs = errors(lint(BASE, '/recipes/stripe.yaml'));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain('demo.yaml');
    expect(errs[0]?.message).toContain('stripe.yaml');
    expect(errs[0]?.line).toBe(1);
    expect(errors(lint(BASE, '/recipes/demo.yml'))).toEqual([]);
  });

  it('type enum without an enum list is an error', () => {
    const text = BASE.replace('params:\n', 'params:\n      status: { type: enum }\n').replace('limit={{params.limit}}', 'limit={{params.limit}}&s={{params.status}}');
    const errs = errors(lint(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain('has type enum but no enum list');
    expect(errs[0]?.line).toBe(lineOf(text, 'status: { type: enum }'));
  });

  it('an invalid pattern, min > max, and min on a string are errors', () => {
    const text = BASE.replace(
      'params:\n',
      'params:\n      a: { pattern: "([0-9]" }\n      b: { type: integer, min: 5, max: 1 }\n      c: { type: string, min: 1 }\n',
    ).replace('limit={{params.limit}}', 'limit={{params.limit}}&a={{params.a}}&b={{params.b}}&c={{params.c}}');
    const msgs = errors(lint(text)).map((e) => `${e.line}: ${e.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${lineOf(text, 'a: { pattern')}: pattern is not a valid regular expression`)),
        `${lineOf(text, 'b: { type')}: min is greater than max`,
        expect.stringMatching(new RegExp(`^${lineOf(text, 'c: { type')}: min/max apply to integer and number`)),
      ]),
    );
    expect(msgs).toHaveLength(3);
  });

  it('a parameter in run[0] is an error: the command may not come from a parameter', () => {
    const text = BASE.replace('run: [curl,', 'run: ["{{params.limit}}",');
    expect(errors(lint(text)).some((e) => e.message.includes('run[0]'))).toBe(true);
  });

  it('a bad timeout and an unknown key are errors with lines', () => {
    const text = BASE.replace('timeout: 30s', 'timeout: soon\n    retries: 3');
    const errs = errors(lint(text));
    expect(errs.map((e) => e.line)).toEqual([lineOf(text, 'retries')]);
    expect(errs[0]?.message).toContain('unknown key "retries"');
    const t2 = BASE.replace('timeout: 30s', 'timeout: soon');
    expect(errors(lint(t2)).map((e) => [e.line, e.message.includes('not a duration')])).toEqual([[lineOf(t2, 'timeout'), true]]);
  });

  it('warns, without failing, on a declared parameter that is never used', () => {
    const text = BASE.replace('params:\n', 'params:\n      unused: { type: string, required: false }\n');
    const r = lint(text);
    expect(errors(r)).toEqual([]);
    expect(warnings(r).map((w) => [w.line, w.message])).toEqual([[lineOf(text, 'unused:'), 'parameter "unused" is declared but never used']]);
  });

  it('warns when a free-form string parameter reaches stdin', () => {
    const text = BASE.replace('params:\n', 'params:\n      note: { type: string }\n').replace('{{secrets.TOKEN}}"', '{{secrets.TOKEN}}"\n      data = "{{params.note}}"');
    const w = warnings(lint(text));
    expect(w.map((x) => x.message)).toEqual(['string parameter "note" reaches stdin/env/files without a pattern or enum; constrain it']);
    expect(warnings(lint(text.replace('note: { type: string }', 'note: { type: string, pattern: "[a-z]+" }')))).toEqual([]);
  });
});

describe('loadService', () => {
  it('a recipe file with a lint error refuses to load (78) at file:line', async () => {
    const dir = tempDir();
    const text = BASE.replace('limit={{params.limit}}', 'limit={{params.limit}}&k={{secrets.TOKEN}}');
    const file = write(join(dir, 'demo.yaml'), text);
    const err = await loadService('demo', [dir]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(78);
    expect((err as ConfigError).message.startsWith(`${file}:${lineOf(text, 'run:')}:`)).toBe(true);
  });

  it('a later folder overrides an earlier one recipe by recipe; warnings do not block loading', async () => {
    const a = tempDir();
    const b = tempDir();
    write(join(a, 'demo.yaml'), BASE.replace('List things', 'from a').replace('recipes:\n', 'recipes:\n  only-a:\n    description: a\n    run: [sh]\n'));
    write(join(b, 'demo.yaml'), BASE.replace('List things', 'from b').replace('params:\n', 'params:\n      unused: { type: string, required: false }\n'));
    const svc = await loadService('demo', [a, join(a, 'missing'), b]);
    expect(svc?.files).toEqual([join(a, 'demo.yaml'), join(b, 'demo.yaml')]);
    expect(svc?.recipes.get('list')?.description).toBe('from b');
    expect(svc?.recipes.get('only-a')?.description).toBe('a');
    expect(await loadService('nothing', [a, b])).toBeUndefined();
    expect(listRecipeFiles([a, b, join(a, 'missing')])).toEqual([join(a, 'demo.yaml'), join(b, 'demo.yaml')]);
  });
});
