import { sha256Hex } from '../digest.js';
import { basename, dirname, extname, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { parseYaml, zodProblems } from '../config/yaml.js';
import { parseDuration } from '../util/duration.js';
import { checkValue, isRequired } from './params.js';
import { patternProblem } from './pattern.js';
import { sandboxLimits } from './sandbox-lint.js';
import { RecipeFileSchema, type ParamSpec } from './schema.js';
import { paramNames, parseTemplate, placeholders, type Template } from './template.js';
import { DEFAULT_TIMEOUT_MS, type LintResult, type LoadedRecipe } from './types.js';

/**
 * The slow half of loading a recipe file (YAML, zod, placeholder and parameter checks). `outloop exec`
 * imports it only when the parse cache misses; `outloop recipes lint` always runs it.
 */
/** Parse and check one recipe file: schema, placeholders, parameter rules, and the secret-in-argv ban. */
export function lintRecipeText(fileArg: string, text: string): LintResult {
  const file = resolve(fileArg);
  const y = parseYaml(file, text);
  if (y.problems.length) return { file, service: undefined, problems: y.problems, recipes: [] };
  const nested = nestedGroups(y.value);
  if (nested.length) {
    return { file, service: undefined, problems: nested.map((path) => ({ file, ...y.locate(path), message: 'optional groups do not nest: a group in run holds plain arguments only' })), recipes: [] };
  }
  const parsed = RecipeFileSchema.safeParse(y.value ?? {});
  if (!parsed.success) return { file, service: undefined, problems: zodProblems(y, parsed.error, RecipeFileSchema), recipes: [] };
  const data = parsed.data;
  const problems: ConfigProblem[] = [];
  const at = (path: PropertyKey[], message: string, severity: 'error' | 'warning' = 'error') =>
    problems.push({ file, ...y.locate(path), message, severity });

  const stem = basename(file, extname(file));
  if (stem !== data.service) at(['service'], `service "${data.service}" must live in a file named ${data.service}.yaml (this file is ${basename(file)})`);

  for (const n of Object.keys(data.placeholders)) {
    if (!data.secrets.includes(n)) at(['placeholders', n], `placeholders.${n} names a secret the file does not declare in secrets`);
  }
  if (data.sign === 'aws-sigv4') {
    for (const n of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (!data.secrets.includes(n)) at(['sign'], `sign: aws-sigv4 needs ${n} in secrets`);
  }
  const surfaces = Object.keys(data.placeholders).length ? Object.fromEntries(Object.entries(data.placeholders).map(([k, v]) => [k, v.substitute])) : undefined;

  const sha = sha256Hex(text);
  const recipes: LoadedRecipe[] = [];
  for (const [name, def] of Object.entries(data.recipes)) {
    const base = ['recipes', name];
    checkParams(def.params, base, at);
    const parse = (source: string, path: PropertyKey[]): Template => {
      const { template, errors } = parseTemplate(source);
      for (const e of errors) at(path, e);
      return template;
    };
    // Groups are flattened: runPaths[i] is where element i sits in the file, runGroups[i] its group (-1: none).
    const runPaths: PropertyKey[][] = [];
    const runGroups: number[] = [];
    const runSources: string[] = [];
    def.run.forEach((el, i) => {
      if (typeof el === 'string') {
        runPaths.push([...base, 'run', i]);
        runGroups.push(-1);
        runSources.push(el);
      } else {
        if (i === 0) at([...base, 'run', 0], 'the command (run[0]) cannot be an optional group');
        el.forEach((s, j) => {
          runPaths.push([...base, 'run', i, j]);
          runGroups.push(i);
          runSources.push(s);
        });
      }
    });
    const run = runSources.map((s, i) => parse(s, runPaths[i]!));
    checkGroups(def.params, run, runGroups, base, at);
    const env = Object.fromEntries(Object.entries(def.env).map(([k, v]) => [k, parse(v, [...base, 'env', k])]));
    const files = Object.fromEntries(Object.entries(def.files).map(([k, v]) => [k, parse(v, [...base, 'files', k])]));
    const stdin = def.stdin === undefined ? undefined : parse(def.stdin, [...base, 'stdin']);

    const used = new Set<string>();
    const secrets = new Set<string>();
    run.forEach((t, i) => {
      for (const p of placeholders(t)) {
        if (p.ns === 'secrets') {
          at(runPaths[i]!, `{{secrets.${p.name}}} may not appear in run: argv is readable by every local user through ps; pass it through env, stdin or files`);
        }
        if (i === 0 && p.ns === 'params') at(runPaths[0]!, 'the command (run[0]) may not come from a parameter');
      }
    });
    const checkRefs = (t: Template, path: PropertyKey[]) => {
      for (const p of placeholders(t)) {
        if (p.ns === 'params') {
          used.add(p.name);
          if (!Object.hasOwn(def.params, p.name)) at(path, `{{params.${p.name}}} is not declared under params`);
        } else if (p.ns === 'secrets') {
          secrets.add(p.name);
          if (!data.secrets.includes(p.name)) at(path, `{{secrets.${p.name}}} is not declared in the file's secrets list`);
        }
      }
    };
    run.forEach((t, i) => checkRefs(t, runPaths[i]!));
    for (const [k, t] of Object.entries(env)) checkRefs(t, [...base, 'env', k]);
    for (const [k, t] of Object.entries(files)) checkRefs(t, [...base, 'files', k]);
    if (stdin) checkRefs(stdin, [...base, 'stdin']);

    for (const p of Object.keys(def.params)) if (!used.has(p)) at([...base, 'params', p], `parameter "${p}" is declared but never used`, 'warning');
    warnUnconstrainedInText(def.params, [stdin, ...Object.values(env), ...Object.values(files)], base, at);
    if (stdin) requireEscaping(def.params, stdin, [...base, 'stdin'], 'stdin', at);
    for (const [k, t] of Object.entries(files)) requireEscaping(def.params, t, [...base, 'files', k], `files.${k}`, at);
    if (isCurl(runSources[0])) checkCurlArgv(def.params, run, runPaths, at);

    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (def.timeout !== undefined) {
      const ms = parseDuration(def.timeout);
      if (ms === undefined) at([...base, 'timeout'], `timeout "${def.timeout}" is not a duration like 30s or 5m`);
      // Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires at once and would kill the child.
      else if (ms > MAX_TIMEOUT_MS) at([...base, 'timeout'], `timeout "${def.timeout}" is longer than 24 days, the longest outloop can wait; use a shorter one`);
      else timeoutMs = ms;
    }
    const bodyFiles = isCurl(runSources[0]) ? curlBodyFiles(Object.keys(def.files), runSources, [def.stdin ?? '', ...Object.values(def.env), ...Object.values(def.files)]) : [];
    const limits = sandboxLimits(def, base, at, parse);
    recipes.push({
      service: data.service,
      name,
      description: def.description,
      risk: def.risk,
      file,
      dir: dirname(file),
      fileSha256: sha,
      hosts: data.hosts,
      params: def.params,
      run,
      ...(runGroups.some((g) => g >= 0) ? { runGroups } : {}),
      env,
      stdin,
      files,
      timeoutMs,
      ...(def.pty ? { pty: true } : {}),
      secrets: [...secrets].sort(),
      ...(def.output ? { output: def.output } : {}),
      ...(bodyFiles.length ? { bodyFiles } : {}),
      ...(def.scopes ? { scopes: def.scopes } : {}),
      ...(data.credential ? { credential: data.credential } : {}),
      ...limits,
      ...(surfaces ? { placeholders: surfaces } : {}),
      ...(data.sign ? { sign: data.sign } : {}),
    });
  }
  return { file, service: data.service, problems, recipes };
}

const MAX_TIMEOUT_MS = 24 * 86_400_000;

type At = (path: PropertyKey[], message: string, severity?: 'error' | 'warning') => void;

function checkParams(params: Record<string, ParamSpec>, base: PropertyKey[], at: At): void {
  for (const [name, spec] of Object.entries(params)) {
    const path = [...base, 'params', name];
    if (spec.type === 'enum' && !spec.enum) at(path, `parameter "${name}" has type enum but no enum list`);
    const badPattern = spec.pattern === undefined ? undefined : patternProblem(spec.pattern);
    if (badPattern) at([...path, 'pattern'], badPattern);
    const numeric = spec.type === 'integer' || spec.type === 'number';
    if (!numeric && (spec.min !== undefined || spec.max !== undefined)) at(path, `min/max apply to integer and number parameters; use minLength/maxLength for ${spec.type}`);
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) at(path, 'min is greater than max');
    // A default is checked against the pattern only once the pattern itself is sound.
    if (spec.default !== undefined && !badPattern) {
      const r = checkValue(name, spec, String(spec.default));
      if (typeof r !== 'string') at([...path, 'default'], `default fails its own rules: ${r.message}`);
    }
  }
}

/** A free-form string spliced into stdin or env can smuggle text into a config format; nudge toward a pattern. */
function warnUnconstrainedInText(params: Record<string, ParamSpec>, texts: (Template | undefined)[], base: PropertyKey[], at: At): void {
  const seen = new Set<string>();
  for (const t of texts) {
    if (!t) continue;
    for (const p of placeholders(t)) {
      if (p.ns !== 'params' || seen.has(p.name) || escapedEverywhere(t, p.name)) continue;
      const spec = params[p.name];
      if (spec && spec.type === 'string' && !spec.pattern && !spec.enum) {
        seen.add(p.name);
        at([...base, 'params', p.name], `string parameter "${p.name}" reaches stdin/env/files without a pattern or enum; constrain it`, 'warning');
      }
    }
  }
}


/** A string parameter with neither a pattern nor an enum: any text an agent chooses. */
function freeText(spec: ParamSpec | undefined): boolean {
  return spec !== undefined && spec.type === 'string' && spec.pattern === undefined && spec.enum === undefined;
}

function escapedEverywhere(t: Template, name: string): boolean {
  return t.tokens.every((tok) => !('ref' in tok) || tok.ref.ns !== 'params' || tok.ref.name !== name || tok.filter !== undefined);
}

/**
 * Free text spliced into a body (stdin, files) unescaped is an injection: a `"` in a title ends the JSON
 * string, a newline in a curl config starts a new option. It must go through `| json` (a JSON string
 * literal, which is also a valid quoted curl-config string since control characters never pass
 * validation) or `| url` (a form body).
 */
function requireEscaping(params: Record<string, ParamSpec>, t: Template, path: PropertyKey[], where: string, at: At): void {
  const seen = new Set<string>();
  for (const tok of t.tokens) {
    if (!('ref' in tok) || tok.ref.ns !== 'params' || tok.filter !== undefined || seen.has(tok.ref.name)) continue;
    if (!freeText(params[tok.ref.name])) continue;
    seen.add(tok.ref.name);
    at(path, `free-text parameter "${tok.ref.name}" is spliced into ${where} unescaped: write {{params.${tok.ref.name} | json}} (a JSON string literal, quotes included) or {{params.${tok.ref.name} | url}}, or give it a pattern or enum`);
  }
}

function isCurl(cmd: string | undefined): boolean {
  return cmd !== undefined && /(^|\/)curl$/.test(cmd);
}

const CURL_ENCODING_OPTIONS = new Set(['--data-urlencode', '--url-query']);

/**
 * In curl's argv a free-text value must be encoded by curl or by a filter: `?`, `&`, `#` or `/` in it
 * would otherwise change the URL or add fields. Safe spots: the value part of `--data-urlencode name=...`
 * or `--url-query name=...` (curl percent-encodes what follows the first `=`), or `{{params.x | url}}`.
 */
function checkCurlArgv(params: Record<string, ParamSpec>, run: Template[], paths: PropertyKey[][], at: At): void {
  run.forEach((t, i) => {
    const prev = i > 0 ? run[i - 1]!.source : '';
    const lead = t.tokens[0] && 'text' in t.tokens[0] ? t.tokens[0].text : '';
    const encodedByCurl = CURL_ENCODING_OPTIONS.has(prev) && lead.includes('=');
    for (const tok of t.tokens) {
      if (!('ref' in tok) || tok.ref.ns !== 'params' || tok.filter !== undefined || encodedByCurl) continue;
      if (!freeText(params[tok.ref.name])) continue;
      at(paths[i]!, `free-text parameter "${tok.ref.name}" reaches curl's arguments unencoded: pass it as --data-urlencode "${tok.ref.name}={{params.${tok.ref.name}}}" (or --url-query), write {{params.${tok.ref.name} | url}}, or give it a pattern or enum`, 'warning');
    }
  });
}

/** An optional group must depend on an optional parameter; otherwise it is always there (or never). */
function checkGroups(params: Record<string, ParamSpec>, run: Template[], groups: number[], base: PropertyKey[], at: At): void {
  for (const g of new Set(groups.filter((x) => x >= 0))) {
    const names = run.flatMap((t, i) => (groups[i] === g ? paramNames(t) : []));
    const optional = names.filter((n) => params[n] !== undefined && !isRequired(params[n]!) && params[n]!.default === undefined);
    if (!optional.length) {
      at([...base, 'run', g], names.length
        ? `this optional group references only parameters that always have a value (${[...new Set(names)].join(', ')}), so it is never left out; reference an optional parameter without a default, or make these plain arguments`
        : 'this optional group references no parameter, so it is never left out; reference an optional parameter, or make these plain arguments');
    }
  }
}

/** Paths of run elements that are a list inside a list (before zod, to give a clear message). */
function nestedGroups(value: unknown): PropertyKey[][] {
  const out: PropertyKey[][] = [];
  const recipes = (value as { recipes?: unknown } | null)?.recipes;
  if (!recipes || typeof recipes !== 'object') return out;
  for (const [name, def] of Object.entries(recipes)) {
    const run = (def as { run?: unknown } | null)?.run;
    if (!Array.isArray(run)) continue;
    run.forEach((el, i) => {
      if (Array.isArray(el)) el.forEach((x, j) => Array.isArray(x) && out.push(['recipes', name, 'run', i, j]));
    });
  }
  return out;
}

const CURL_BODY_FROM_FILE = new Set(['--json', '--data-binary']);

/**
 * The files curl only sends as the request body: every mention of the name anywhere in the recipe is the
 * argument `@NAME` right after --json or --data-binary (so it is never a config for -K, never a URL list,
 * never read by anything else). curl sends such a file verbatim to the URL in argv, which the host gate
 * checks; a link inside a comment's text is data for that host, not a request curl would make.
 */
function curlBodyFiles(names: string[], run: string[], otherTexts: string[]): string[] {
  return names.filter((name) => {
    let asBody = 0;
    for (let i = 0; i < run.length; i++) {
      if (!run[i]!.includes(name)) continue;
      if (run[i] !== `@${name}` || !CURL_BODY_FROM_FILE.has(run[i - 1] ?? '')) return false;
      asBody++;
    }
    return asBody > 0 && !otherTexts.some((t) => t.includes(name));
  });
}
