// Compile src/redact/shapes/rules.yaml into rules.generated.ts, so the CLI never loads the YAML parser on
// the output path (importing `yaml` costs about 20 ms). Run by scripts/build.mjs; test/redact/shapes-rules
// fails when the generated file is stale. Usage: node scripts/gen-shape-rules.mjs [--check]
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const yamlPath = `${root}src/redact/shapes/rules.yaml`;
const outPath = `${root}src/redact/shapes/rules.generated.ts`;

export function generate(yamlText) {
  const rules = parse(yamlText);
  if (!Array.isArray(rules)) throw new Error('rules.yaml: expected a list of rules');
  return [
    '// Generated from rules.yaml by scripts/gen-shape-rules.mjs. Do not edit: edit rules.yaml and run `npm run build`.',
    "import type { ShapeRule } from './rule.js';",
    '',
    `export const BUILTIN_RULES: readonly ShapeRule[] = ${JSON.stringify(rules, null, 2)};`,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate(readFileSync(yamlPath, 'utf8'));
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
