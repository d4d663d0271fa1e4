// Bundle the CLI with esbuild: one entry, code-split so each command's modules (and heavy dependencies)
// load only when that command runs. Node resolves and compiles one file per chunk instead of hundreds.
import { build } from 'esbuild';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Native addon: loaded from node_modules at run time, only when the OS keychain is used.
  external: ['@napi-rs/keyring'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __outloopCreateRequire } from 'node:module'; const require = __outloopCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: false,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The JSON Schemas editors use, generated from the same zod source the CLI validates with.
mkdirSync('schema', { recursive: true });
for (const which of ['recipe', 'config']) {
  const out = execFileSync(process.execPath, ['bin/outloop.js', 'schema', which], { encoding: 'utf8' });
  writeFileSync(`schema/${which}.schema.json`, out);
}
console.log('built dist/ and schema/');
