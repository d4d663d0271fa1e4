import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleRequest } from '../../src/broker/exec.js';
import { checkUrl, findUrls, hostAllowed } from '../../src/policy/hosts.js';
import { decide, type Decision } from '../../src/policy/decide.js';
import { configFrom, countingBackends, makeHome, serviceFrom, useTempDirs } from './helpers.js';
import { refusedCharacter } from '../../src/recipe/params.js';

const tempDir = useTempDirs();

const RECIPES = `
service: inj
hosts: [api.example.com, "*.cdn.example.com", "api.example.com:8443"]
recipes:
  echo:
    description: A permissive parameter in every position it can take inside an argument
    params:
      v: { type: string, pattern: '[\\s\\S]*' }
    run: [printf, "%s|", "{{params.v}}", "--x={{params.v}}", "a{{params.v}}b{{params.v}}c", "{{tenant}}:{{params.v}}"]
  host:
    description: The parameter is the whole authority
    params:
      host: { type: string }
    run: [curl, "https://{{params.host}}/v1"]
  url:
    description: The parameter is the whole URL
    params:
      url: { type: string }
    run: [curl, "{{params.url}}"]
  path:
    description: The parameter follows the host directly
    params:
      path: { type: string }
    run: [curl, "https://api.example.com{{params.path}}"]
  flag:
    description: The parameter is the value of a flag written in the recipe
    params:
      v: { type: string }
    run: [printf, "%s", "--x={{params.v}}"]
  join:
    description: Two parameters make one argument
    params:
      a: { type: string, required: false }
      b: { type: string }
    run: [printf, "%s", "{{params.a}}{{params.b}}"]
`;
const SVC = serviceFrom(RECIPES, '/recipes/inj.yaml');
const CONFIG = configFrom('tenants:\n  acme:\n    projects: [/w/acme]\n    services:\n      inj:\n        allow: ["*"]\n');

function decideFor(recipe: string, params: Record<string, string>): Decision {
  return decide(
    { service: 'inj', recipe, params, cwd: '/w/acme' },
    { binding: { tenant: 'acme', project: '/w/acme' }, tenants: CONFIG.tenants, service: SVC, configFile: '/c.yaml' },
  );
}

function argvFor(recipe: string, params: Record<string, string>): string[] {
  const d = decideFor(recipe, params);
  if (!d.allow) throw new Error(`denied ${d.code}: ${d.reason}`);
  return d.plan.preview.argv;
}

const codeOf = (d: Decision) => (d.allow ? 'allow' : d.code);
// Control, line-separator and format characters (ZWJ/ZWNJ aside) are refused: src/recipe/params.ts.
const CONTROL = { test: (v: string) => refusedCharacter(v) !== undefined };

describe('a parameter stays inside its one argument', () => {
  const nasty = ['$(id)', '`id`', 'a; rm -rf /', "it's", '"quoted"', 'two words', '  ', '$HOME', '*', '\\', '|cat', '&& true', '{{params.v}}'];

  for (const v of nasty) {
    it(`${JSON.stringify(v)} is passed literally`, () => {
      expect(argvFor('echo', { v })).toEqual(['printf', '%s|', v, `--x=${v}`, `a${v}b${v}c`, `acme:${v}`]);
    });
  }

  it('a newline or other control character is rejected as bad_param', () => {
    for (const v of ['a\nb', 'a\rb', '\u001b[31m', 'x\u0000', '\u007f']) {
      const d = decideFor('echo', { v });
      expect(codeOf(d), JSON.stringify(v)).toBe('bad_param');
      expect(!d.allow && d.reason).toContain('control character');
    }
  });

  it('a value starting with "-" is denied where it is a whole argument', () => {
    for (const v of ['--output=/etc/passwd', '-K', '-']) {
      const d = decideFor('echo', { v });
      expect(codeOf(d), v).toBe('bad_param');
      expect(!d.allow && d.param).toBe('v');
    }
  });

  it('the same value inside --x={{params.v}} is a literal, not a new flag', () => {
    for (const v of ['--config=/etc/shadow', '-K', '-']) {
      expect(argvFor('flag', { v })).toEqual(['printf', '%s', `--x=${v}`]);
    }
    // After a non-empty leading parameter a dash is just text inside the argument.
    expect(argvFor('join', { a: 'x', b: '--evil' })).toEqual(['printf', '%s', 'x--evil']);
  });

  // Regression (was a bug): src/policy/decide.ts optionInjection only looks at the FIRST token of each argv element. When that
  // token is a parameter that renders empty (an optional one not given, or an empty value) and a later
  // parameter starts with "-", the element still becomes a flag: run: [printf, "%s", "{{params.a}}{{params.b}}"]
  // with -p a= -p b=--evil renders argv[2] = "--evil". Fix: test the rendered element
  // (preview.argv[i].startsWith('-')) unless the template's own leading literal text starts with "-".
  it('an empty leading parameter cannot smuggle a flag through the next one', () => {
    expect(codeOf(decideFor('join', { a: '', b: '--evil' }))).toBe('bad_param');
    expect(codeOf(decideFor('join', { b: '--evil' }))).toBe('bad_param');
  });

  it('property: for any value, argv length never changes and each element is the literal concatenation', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (v) => {
        const d = decideFor('echo', { v });
        if (d.allow) {
          expect(d.plan.preview.argv).toEqual(['printf', '%s|', v, `--x=${v}`, `a${v}b${v}c`, `acme:${v}`]);
          return;
        }
        // The only reasons to refuse a value here: a control character, a leading "-", or a URL it carries.
        const why = CONTROL.test(v) || v.startsWith('-') ? 'bad_param' : v.includes('://') ? 'host_not_allowed' : 'none';
        expect(d.code).toBe(why);
      }),
      { numRuns: 500 },
    );
  });

  it('property: a value with no control character, leading "-" or "://" is always allowed', () => {
    const safe = fc.string({ unit: 'binary', maxLength: 80 }).filter((v) => !CONTROL.test(v) && !v.startsWith('-') && !v.includes('://'));
    fc.assert(
      fc.property(safe, (v) => {
        expect(argvFor('echo', { v })).toHaveLength(6);
      }),
      { numRuns: 300 },
    );
  });

  it('a real child receives each nasty value as exactly one argument, unexpanded', async () => {
    const root = tempDir();
    const home = makeHome(root);
    const project = join(root, 'p');
    mkdirSync(project);
    home.writeConfig(`tenants:\n  acme:\n    projects: [${project}]\n    services:\n      argv:\n        allow: ["*"]\n`);
    // The child prints its argument count, then each argument in brackets.
    home.writeRecipe('argv', `service: argv
recipes:
  show:
    description: Show argv
    params:
      v: { type: string }
    run: [sh, -c, 'printf "%s" "$#"; for a; do printf "[%s]" "$a"; done', sh, "{{params.v}}", "x={{params.v}}"]
`);
    const values = ['$(id)', '`id`', 'a; echo pwned', "'\"", 'two  words', '*', '$0'];
    for (const v of values) {
      const b = countingBackends();
      const out = await handleRequest({ service: 'argv', recipe: 'show', params: { v }, mode: 'exec' }, home.deps(project, b.factory));
      if (out.kind !== 'ran') throw new Error(`expected ran for ${v}, got ${out.kind}`);
      expect(out.stdout, v).toBe(`2[${v}][x=${v}]`);
    }
  });
});

describe('the host gate', () => {
  const allowed = ['api.example.com'];

  it('allows the service\'s own host, a wildcard subdomain and a listed port', () => {
    expect(codeOf(decideFor('host', { host: 'api.example.com' }))).toBe('allow');
    expect(codeOf(decideFor('host', { host: 'API.EXAMPLE.COM' }))).toBe('allow');
    expect(codeOf(decideFor('host', { host: 'img.cdn.example.com' }))).toBe('allow');
    expect(codeOf(decideFor('host', { host: 'api.example.com:8443' }))).toBe('allow');
  });

  const swaps: Array<[string, string]> = [
    ['api.example.com@evil.example', 'userinfo swap'],
    ['api.example.com\\@evil.example', 'backslash: WHATWG and curl disagree'],
    ['%61pi.example.com', 'percent-encoded host'],
    ['api.example%2ecom', 'percent-encoded dot'],
    ['api.example.com.evil.example', 'suffix'],
    ['evil.example#@api.example.com', 'fragment trick'],
    ['cdn.example.com', 'wildcard does not match its bare domain'],
    ['evil.example/?@api.example.com', 'query trick'],
  ];
  for (const [host, why] of swaps) {
    it(`denies https://${host}/v1 (${why})`, () => {
      const d = decideFor('host', { host });
      expect(codeOf(d)).toBe('host_not_allowed');
      expect(!d.allow && d.reason).toContain('https://');
    });
  }

  it('denies non-web schemes such as file://', () => {
    for (const url of ['file:///etc/passwd', 'gopher://api.example.com/', 'ftp://api.example.com/x', 'dict://api.example.com:11211/']) {
      const d = decideFor('url', { url });
      expect(codeOf(d), url).toBe('host_not_allowed');
      expect(!d.allow && d.reason).toContain('scheme');
    }
    expect(codeOf(decideFor('url', { url: 'https://api.example.com/v1' }))).toBe('allow');
  });

  it('checks every URL a value carries, not only the first', () => {
    expect(codeOf(decideFor('path', { path: '/v1 https://evil.example/' }))).toBe('host_not_allowed');
    // A URL inside the query string is data for api.example.com, not a second destination.
    expect(codeOf(decideFor('path', { path: '/v1?next=https://evil.example/' }))).toBe('allow');
    expect(codeOf(decideFor('path', { path: '/v1/items' }))).toBe('allow');
  });

  // Regression (was a bug): src/policy/hosts.ts URL_IN_TEXT stops a URL at " ' < > and `, so only the part before such a
  // character is checked. curl (7.88, verified) and WHATWG both read `https://api.example.com"@evil.example/`
  // as host evil.example, while decide() checks just `https://api.example.com` and allows it. With a recipe
  // like run: [curl, "https://api.example.com{{params.path}}"], -p 'path="@evil.example/' sends the request
  // (and its Authorization header) to evil.example. Fix: for argv/env elements find URLs up to whitespace only,
  // or in checkUrl take the authority from the source text up to the first / ? # or whitespace and deny
  // when it holds any of " ' < > ` (as is done for \ and %).
  it('a quote before @ cannot hide the real host', () => {
    for (const q of ['"', "'", '<', '>', '`']) {
      expect(codeOf(decideFor('path', { path: `${q}@evil.example/` })), q).toBe('host_not_allowed');
    }
  });

  it('checkUrl: every reading of the authority must be allowed', () => {
    expect(checkUrl('https://api.example.com/x', allowed)).toBeUndefined();
    expect(checkUrl('https://user:pw@api.example.com/x', allowed)).toBeUndefined();
    expect(checkUrl('https://api.example.com@evil.example/', allowed)?.host).toBe('evil.example');
    expect(checkUrl('https://api.example.com\\@evil.example/', allowed)?.why).toContain('backslash');
    expect(checkUrl('https://%61pi.example.com/', allowed)?.why).toContain('%');
    expect(checkUrl('https://', allowed)?.why).toContain('not a valid URL');
    expect(checkUrl('http://api.example.com./x', allowed)).toBeUndefined();
  });

  it('hostAllowed: wildcards need a subdomain, ports must match when listed', () => {
    expect(hostAllowed('a.b.example.com', '443', ['*.example.com'])).toBe(true);
    expect(hostAllowed('example.com', '443', ['*.example.com'])).toBe(false);
    expect(hostAllowed('badexample.com', '443', ['*.example.com'])).toBe(false);
    expect(hostAllowed('api.example.com', '443', ['api.example.com:8443'])).toBe(false);
    expect(hostAllowed('api.example.com', '8443', ['api.example.com:8443'])).toBe(true);
    expect(checkUrl('https://api.example.com:9999/', ['api.example.com:443'])?.host).toBe('api.example.com');
    expect(checkUrl('https://api.example.com/', ['api.example.com:443'])).toBeUndefined();
    expect(hostAllowed('[::1]', '80', ['[::1]'])).toBe(true);
  });

  it('findUrls finds URLs in stdin and env text', () => {
    expect(findUrls('url = "https://a.example/x"\nheader = "X: y"\nnext=http://b.example')).toEqual(['https://a.example/x', 'http://b.example']);
  });
});

describe('malformed URL forms in a parameter are denied at the host gate', () => {
  // Each is read by a browser (and the WHATWG parser) as a URL whose host is evil.example.
  for (const url of ['//evil.example/x', 'http:/evil.example/x', 'http:\\\\evil.example\\x', '\\\\evil.example/x', 'HTTPS:/evil.example']) {
    it(url, () => {
      const d = decideFor('url', { url });
      expect(d.allow).toBe(false);
      expect(d).toMatchObject({ code: 'host_not_allowed' });
    });
  }
  it('the well-formed URL to the allowed host still passes', () => {
    expect(decideFor('url', { url: 'https://api.example.com/v1' }).allow).toBe(true);
  });
});
