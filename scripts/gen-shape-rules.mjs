// Compile src/redact/shapes/rules.yaml into rules.generated.ts, so the CLI never loads the YAML parser on
// the output path (importing `yaml` costs about 20 ms). Run by scripts/build.mjs; test/redact/shapes-rules
// fails when the generated file is stale. Usage: node scripts/gen-shape-rules.mjs [--check]
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const yamlPath = `${root}src/redact/shapes/rules.yaml`;
const outPath = `${root}src/redact/shapes/rules.generated.ts`;

/** The keyword index of the packaged set, computed by the same code the CLI runs (compile.ts). */
async function indexFor(rules) {
  const out = await build({ entryPoints: [`${root}src/redact/shapes/compile.ts`], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
  // Not trusted: a packaged rule that does not compile fails the build here.
  return mod.exportIndex(mod.compileShapes(rules));
}

export async function generate(yamlText) {
  const rules = parse(yamlText);
  if (!Array.isArray(rules)) throw new Error('rules.yaml: expected a list of rules');
  return [
    '// Generated from rules.yaml by scripts/gen-shape-rules.mjs. Do not edit: edit rules.yaml and run `npm run build`.',
    "import type { ShapeIndex } from './compile.js';",
    "import type { ShapeRule } from './rule.js';",
    '',
    // JSON.parse of a string literal: V8 reads it several times faster than the same object literal.
    // Parsed at the first call, not when the module loads: an exec loads it before its child starts and
    // compiles the rules only once the child runs (about 0.5 ms and 100 KB of young objects).
    'let rules: readonly ShapeRule[] | undefined;',
    `export const builtinRuleData = (): readonly ShapeRule[] => (rules ??= JSON.parse(${JSON.stringify(JSON.stringify(rules))}));`,
    '',
    '/** The keyword index of the packaged rules, so the CLI does not build it on every start. */',
    'let index: ShapeIndex | undefined;',
    `export const builtinIndexData = (): ShapeIndex => (index ??= JSON.parse(${JSON.stringify(JSON.stringify(await indexFor(rules)))}));`,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await generate(readFileSync(yamlPath, 'utf8'));
  if (process.argv.includes('--check')) {
    if (readFileSync(outPath, 'utf8') !== text) {
      console.error('src/redact/shapes/rules.generated.ts is stale: run node scripts/gen-shape-rules.mjs');
      process.exit(1);
    }
  } else {
    const tmp = `${outPath}.${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, outPath);
  }
}
