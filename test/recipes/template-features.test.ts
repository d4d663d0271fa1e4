import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintRecipeText } from '../../src/recipe/lint.js';
import { renderRecipe } from '../../src/recipe/render.js';
import { secretMarker } from '../../src/recipe/template.js';
import { checkCase, runCase } from './harness.js';

/** Optional groups in run, env entries that drop out, and the | json / | url filters. */
const lint = (yaml: string) => lintRecipeText('/recipes/demo.yaml', yaml);
const errors = (yaml: string) => lint(yaml).problems.filter((p) => p.severity !== 'warning');
const warnings = (yaml: string) => lint(yaml).problems.filter((p) => p.severity === 'warning');

const head = `service: demo
hosts: [api.example.com]
secrets: [TOKEN]
recipes:
`;
const recipe = (body: string) => `${head}  r:\n    description: d\n    risk: read\n${body}`;

const GROUPED = recipe(`    params:
      limit: { type: integer, default: 10, min: 1, max: 100 }
      customer: { type: string, pattern: "cus_[A-Za-z0-9]+", required: false }
      status: { type: enum, enum: [draft, open], required: false }
    run: [curl, -sS, -G, "https://api.example.com/v1/invoices", --data-urlencode, "limit={{params.limit}}", [--data-urlencode, "customer={{params.customer}}"], [--data-urlencode, "status={{params.status}}"]]
    env:
      CUSTOMER: "{{params.customer}}"
      FIXED: "x"
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
`);

function rendered(yaml: string, params: Record<string, string>) {
  const r = lint(yaml).recipes[0]!;
  return renderRecipe(r, { params, secret: secretMarker, tenant: 't', project: '/p' });
}

describe('optional groups', () => {
  it('lint clean, and a group takes part only when its parameter has a value', () => {
    expect(lint(GROUPED).problems).toEqual([]);
    const base = ['curl', '-sS', '-G', 'https://api.example.com/v1/invoices', '--data-urlencode', 'limit=10'];
    expect(rendered(GROUPED, { limit: '10' }).argv).toEqual(base);
    expect(rendered(GROUPED, { limit: '10', status: 'open' }).argv).toEqual([...base, '--data-urlencode', 'status=open']);
    expect(rendered(GROUPED, { limit: '10', customer: 'cus_1', status: 'draft' }).argv).toEqual([
      ...base, '--data-urlencode', 'customer=cus_1', '--data-urlencode', 'status=draft',
    ]);
  });

  it('an env entry is set only when every parameter it references has a value', () => {
    expect(rendered(GROUPED, { limit: '10' }).env).toEqual({ FIXED: 'x' });
    expect(rendered(GROUPED, { limit: '10', customer: 'cus_1' }).env).toEqual({ CUSTOMER: 'cus_1', FIXED: 'x' });
  });

  it('a group that references no optional parameter is an error at its line', () => {
    const text = GROUPED.replace('[--data-urlencode, "status={{params.status}}"]', '[--data-urlencode, "limit={{params.limit}}"]');
    expect(errors(text).map((e) => e.message)).toEqual([expect.stringContaining('only parameters that always have a value (limit)')]);
    const none = GROUPED.replace('[--data-urlencode, "status={{params.status}}"]', '[--verbose]');
    expect(errors(none).map((e) => e.message)).toEqual([expect.stringContaining('references no parameter')]);
  });

  it('nested groups, a group as the command and a secret inside a group are errors', () => {
    expect(errors(GROUPED.replace('[--data-urlencode, "status={{params.status}}"]', '[--data-urlencode, ["status={{params.status}}"]]')).map((e) => e.message)).toEqual([
      'optional groups do not nest: a group in run holds plain arguments only',
    ]);
    expect(errors(GROUPED.replace('run: [curl,', 'run: [[curl, "{{params.status}}"],')).map((e) => e.message)).toContain('the command (run[0]) cannot be an optional group');
    const secret = errors(GROUPED.replace('"status={{params.status}}"]', '"status={{params.status}}", "{{secrets.TOKEN}}"]'));
    expect(secret.map((e) => e.message)).toEqual([expect.stringContaining('{{secrets.TOKEN}} may not appear in run')]);
  });
});

describe('optional groups and the option-injection check', () => {
  it('an argument after a left-out group is still checked at its own position', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-features-')));
    try {
      writeFileSync(
        join(dir, 'demo.yaml'),
        recipe(`    params:
      label: { type: string, pattern: "[a-z]+", required: false }
      out: { type: string, pattern: "-?[a-z]+" }
    run: [curl, -sS, --fail-with-body, [--url-query, "label={{params.label}}"], -o, "{{params.out}}", "https://api.example.com/v1/items"]
`).replace('secrets: [TOKEN]', 'secrets: []'),
      );
      const run = await runCase('demo', ['api.example.com'], { recipe: 'r', params: { out: '-k' }, secrets: {}, expect: { method: 'GET', path: '/', headers: {} }, respond: { body: {} } }, dir);
      expect(run.outcome.kind === 'denied' && [run.outcome.decision.code, run.outcome.decision.reason]).toEqual(['bad_param', expect.stringContaining('parameter "out" starts with "-"')]);
      expect(run.seen).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('escaping filters', () => {
  const BODY = recipe(`    params:
      title: { type: string, maxLength: 200 }
      note: { type: string, required: false }
      q: { type: string }
    run: [curl, -sS, --fail-with-body, -K, "-", --json, "@body.json", "https://api.example.com/v1/items?q={{params.q | url}}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    files:
      body.json: '{"title": {{params.title | json}}, "note": {{params.note | json}}}'
`);

  it('| json is a whole JSON string literal (null when unset) and | url percent-encodes', () => {
    expect(lint(BODY).problems).toEqual([]);
    const evil = 'a", "admin": true, "x": "\\';
    const r = rendered(BODY, { title: evil, q: 'a b&c=d/e?#\'(' });
    expect(JSON.parse(r.files['body.json']!)).toEqual({ title: evil, note: null });
    expect(r.argv.at(-1)).toBe('https://api.example.com/v1/items?q=a%20b%26c%3Dd%2Fe%3F%23%27%28');
  });

  it('free text spliced into stdin or files without a filter is an error; in curl argv a warning', () => {
    const raw = BODY.replace('{{params.title | json}}', '"{{params.title}}"');
    expect(errors(raw).map((e) => e.message)).toEqual([expect.stringContaining('free-text parameter "title" is spliced into files.body.json unescaped')]);
    const inStdin = BODY.replace('{{secrets.TOKEN}}"', '{{secrets.TOKEN}}"\n      data = "{{params.title}}"');
    expect(errors(inStdin).map((e) => e.message)).toEqual([expect.stringContaining('free-text parameter "title" is spliced into stdin unescaped')]);
    const argv = BODY.replace('{{params.q | url}}', '{{params.q}}');
    expect(errors(argv)).toEqual([]);
    expect(warnings(argv).map((w) => w.message)).toEqual([expect.stringContaining('free-text parameter "q" reaches curl\'s arguments unencoded')]);
    const urlencoded = argv.replace('"https://api.example.com/v1/items?q={{params.q}}"', '-G, "https://api.example.com/v1/items", --data-urlencode, "q={{params.q}}"');
    expect(lint(urlencoded).problems).toEqual([]);
    const noName = urlencoded.replace('"q={{params.q}}"', '"{{params.q}}"');
    expect(warnings(noName)).toHaveLength(1);
  });

  it('an unknown filter and two filters are errors', () => {
    expect(errors(BODY.replace('{{params.q | url}}', '{{params.q | shell}}')).map((e) => e.message)).toEqual([expect.stringContaining('unknown filter "shell"')]);
    expect(errors(BODY.replace('{{params.q | url}}', '{{params.q | url | json}}')).map((e) => e.message)).toEqual([expect.stringContaining('more than one filter')]);
  });
});

describe('for real: groups and a JSON body through curl', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-features-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'demo.yaml'),
    recipe(`    params:
      title: { type: string, maxLength: 200 }
      label: { type: string, pattern: "[a-z]+", required: false }
    run: [curl, -sS, --fail-with-body, -K, "-", --json, "@body.json", "https://api.example.com/v1/items", [--url-query, "label={{params.label}}"]]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    files:
      body.json: '{"title": {{params.title | json}}}'
`),
  );
  const TOKEN = 'tok_features_0123456789abcdef';
  const evil = 'x", "admin": true, "y": "} \\ & ?';

  it('the server sees the title as one JSON string and no label unless given', async () => {
    await checkCase('demo', ['api.example.com'], {
      recipe: 'r',
      params: { title: evil },
      secrets: { TOKEN },
      expect: { method: 'POST', path: '/v1/items', body: { title: evil }, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } },
      respond: { body: { id: 'it_1' } },
    }, dir);
    await checkCase('demo', ['api.example.com'], {
      recipe: 'r',
      params: { title: 't', label: 'red' },
      secrets: { TOKEN },
      expect: { method: 'POST', path: '/v1/items', query: { label: 'red' }, body: { title: 't' }, headers: { authorization: `Bearer ${TOKEN}` } },
      respond: { body: { id: 'it_2' } },
    }, dir);
  });

  it('a URL inside a body file curl only sends (--json @body.json) is data, not a request target', async () => {
    await checkCase('demo', ['api.example.com'], {
      recipe: 'r',
      params: { title: 'see https://elsewhere.example.org/x' },
      secrets: { TOKEN },
      expect: { method: 'POST', path: '/v1/items', body: { title: 'see https://elsewhere.example.org/x' }, headers: { authorization: `Bearer ${TOKEN}` } },
      respond: { body: { id: 'it_3' } },
    }, dir);
  });

  it('the same URL in a file curl could read as config, or one named elsewhere, is still denied', async () => {
    const base = recipe(`    params:
      title: { type: string, maxLength: 200 }
    run: [curl, -sS, --fail-with-body, -K, "-", --json, "@body.json", "https://api.example.com/v1/items"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    files:
      body.json: '{"title": {{params.title | json}}}'
`);
    const variants = {
      'read as a config (-K)': base.replace('--json, "@body.json"', '-K, body.json'),
      'named in the stdin config': base.replace('{{secrets.TOKEN}}"', '{{secrets.TOKEN}}"\n      config = "body.json"'),
      'sent with --data (which strips newlines, but is not in the list)': base.replace('--json, "@body.json"', '--data, "@body.json"'),
    };
    for (const [what, text] of Object.entries(variants)) {
      expect(lint(text).recipes[0]!.bodyFiles, what).toBeUndefined();
      const vdir = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-features-')));
      try {
        writeFileSync(join(vdir, 'demo.yaml'), text);
        const run = await runCase('demo', ['api.example.com'], {
          recipe: 'r',
          params: { title: 'see https://elsewhere.example.org/x' },
          secrets: { TOKEN },
          expect: { method: 'POST', path: '/', headers: {} },
          respond: { body: {} },
        }, vdir);
        expect(run.outcome.kind === 'denied' && run.outcome.decision.code, what).toBe('host_not_allowed');
        expect(run.seen, what).toEqual([]);
        expect(run.backendReads, what).toBe(0);
      } finally {
        rmSync(vdir, { recursive: true, force: true });
      }
    }
    expect(lint(base).recipes[0]!.bodyFiles).toEqual(['body.json']);
  });

  it('the harness fails a case whose request differs from the expectation', async () => {
    await expect(
      checkCase('demo', ['api.example.com'], {
        recipe: 'r',
        params: { title: 't' },
        secrets: { TOKEN },
        expect: { method: 'POST', path: '/v1/other', body: { title: 't' }, headers: { authorization: `Bearer ${TOKEN}` } },
        respond: { body: {} },
      }, dir),
    ).rejects.toThrow(/path/);
    const run = await runCase('demo', ['api.example.com'], { recipe: 'r', params: { title: 't' }, secrets: { TOKEN }, expect: { method: 'POST', path: '/', headers: {} }, respond: { body: {} } }, dir);
    expect(run.seen).toHaveLength(1);
  });
});
