import { createHash } from 'node:crypto';
import { basename, dirname, extname, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { parseYaml, zodProblems } from '../config/yaml.js';
import { parseDuration } from '../util/duration.js';
import { sandboxLimits } from './sandbox-lint.js';
import { anchored, checkValue } from './params.js';
import { RecipeFileSchema, type ParamSpec } from './schema.js';
import { parseTemplate, placeholders, type Template } from './template.js';
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
  const parsed = RecipeFileSchema.safeParse(y.value ?? {});
  if (!parsed.success) return { file, service: undefined, problems: zodProblems(y, parsed.error), recipes: [] };
  const data = parsed.data;
  const problems: ConfigProblem[] = [];
  const at = (path: PropertyKey[], message: string, severity: 'error' | 'warning' = 'error') =>
    problems.push({ file, ...y.locate(path), message, severity });

  const stem = basename(file, extname(file));
  if (stem !== data.service) at(['service'], `service "${data.service}" must live in a file named ${data.service}.yaml (this file is ${basename(file)})`);

  const sha = createHash('sha256').update(text).digest('hex');
  const recipes: LoadedRecipe[] = [];
  for (const [name, def] of Object.entries(data.recipes)) {
    const base = ['recipes', name];
    checkParams(def.params, base, at);
    const parse = (source: string, path: PropertyKey[]): Template => {
      const { template, errors } = parseTemplate(source);
      for (const e of errors) at(path, e);
      return template;
    };
    const run = def.run.map((s, i) => parse(s, [...base, 'run', i]));
    const env = Object.fromEntries(Object.entries(def.env).map(([k, v]) => [k, parse(v, [...base, 'env', k])]));
    const files = Object.fromEntries(Object.entries(def.files).map(([k, v]) => [k, parse(v, [...base, 'files', k])]));
    const stdin = def.stdin === undefined ? undefined : parse(def.stdin, [...base, 'stdin']);

    const used = new Set<string>();
    const secrets = new Set<string>();
    run.forEach((t, i) => {
      for (const p of placeholders(t)) {
        if (p.ns === 'secrets') {
          at([...base, 'run', i], `{{secrets.${p.name}}} may not appear in run: argv is readable by every local user through ps; pass it through env, stdin or files`);
        }
        if (i === 0 && p.ns === 'params') at([...base, 'run', 0], 'the command (run[0]) may not come from a parameter');
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
    run.forEach((t, i) => checkRefs(t, [...base, 'run', i]));
    for (const [k, t] of Object.entries(env)) checkRefs(t, [...base, 'env', k]);
    for (const [k, t] of Object.entries(files)) checkRefs(t, [...base, 'files', k]);
    if (stdin) checkRefs(stdin, [...base, 'stdin']);

    for (const p of Object.keys(def.params)) if (!used.has(p)) at([...base, 'params', p], `parameter "${p}" is declared but never used`, 'warning');
    warnUnconstrainedInText(def.params, [stdin, ...Object.values(env), ...Object.values(files)], base, at);

    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (def.timeout !== undefined) {
      const ms = parseDuration(def.timeout);
      if (ms === undefined) at([...base, 'timeout'], `timeout "${def.timeout}" is not a duration like 30s or 5m`);
      else timeoutMs = ms;
    }
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
      env,
      stdin,
      files,
      timeoutMs,
      secrets: [...secrets].sort(),
      ...limits,
    });
  }
  return { file, service: data.service, problems, recipes };
}

type At = (path: PropertyKey[], message: string, severity?: 'error' | 'warning') => void;

function checkParams(params: Record<string, ParamSpec>, base: PropertyKey[], at: At): void {
  for (const [name, spec] of Object.entries(params)) {
    const path = [...base, 'params', name];
    if (spec.type === 'enum' && !spec.enum) at(path, `parameter "${name}" has type enum but no enum list`);
    if (spec.pattern !== undefined) {
      try {
        anchored(spec.pattern);
      } catch (err) {
        at([...path, 'pattern'], `pattern is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const numeric = spec.type === 'integer' || spec.type === 'number';
    if (!numeric && (spec.min !== undefined || spec.max !== undefined)) at(path, `min/max apply to integer and number parameters; use minLength/maxLength for ${spec.type}`);
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) at(path, 'min is greater than max');
    if (spec.default !== undefined) {
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
      if (p.ns !== 'params' || seen.has(p.name)) continue;
      const spec = params[p.name];
      if (spec && spec.type === 'string' && !spec.pattern && !spec.enum) {
        seen.add(p.name);
        at([...base, 'params', p.name], `string parameter "${p.name}" reaches stdin/env/files without a pattern or enum; constrain it`, 'warning');
      }
    }
  }
}

