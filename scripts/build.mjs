// Bundle the CLI with esbuild: one entry, code-split so each command's modules (and heavy dependencies)
// load only when that command runs. Node resolves and compiles one file per chunk instead of hundreds.
import { build, transform } from 'esbuild';
import { rmSync, writeFileSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { builtinModules } from 'node:module';

// `import { readFileSync } from 'node:fs'` in ESM builds a facade that reads every export of the module,
// which for fs triggers the lazy ReadStream getter and loads the whole streams stack (about 7 ms here),
// and likewise for crypto and child_process. process.getBuiltinModule (Node >= 20.16) hands over the
// module without a facade; each named import becomes one pure property read that esbuild drops if unused.
const BUILTINS = new Set(builtinModules);
const LAZY_BUILTINS = new Set(['child_process']);
const builtinsWithoutFacade = {
  name: 'builtins-without-esm-facade',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!BUILTINS.has(name) || args.namespace.startsWith('builtin')) return undefined;
      // require() of a builtin (commander, yaml do it) gets a CommonJS shim: wrapping the ESM one for
      // require would read every export, getters and all. Either way no createRequire banner is needed.
      return { path: name, namespace: args.kind === 'require-call' ? 'builtin-cjs' : 'builtin', sideEffects: false };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin-cjs' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, async (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const mod = await import(`node:${args.path}`);
      const keys = Object.keys(mod).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      if (LAZY_BUILTINS.has(args.path)) {
        // Loaded at the first call: a denial or a check never spawns, and node:child_process (with net,
        // dgram and the streams) is about 2 ms of their start-up. Its functions are only ever called.
        const lines = [`let m;`, `const get = () => (m ??= process.getBuiltinModule(${id}));`, 'export default /* @__PURE__ */ (() => get())();'];
        for (const k of keys) {
          if (typeof mod[k] === 'function' && /^[a-z]/.test(k)) lines.push(`export function ${k}(...a) { return get().${k}(...a); }`);
          else lines.push(`export const ${k} = /* @__PURE__ */ (() => get().${k})();`);
        }
        return { contents: lines.join('\n'), loader: 'js' };
      }
      const lines = [`const m = process.getBuiltinModule(${id});`, 'export default m;'];
      for (const k of keys) lines.push(`export const ${k} = /* @__PURE__ */ (() => m.${k})();`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

// The parse cache (src/config/cache.ts) keys entries on this, so a rebuilt outloop never trusts what an
// older build validated.
function buildId() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) h.update(p).update(readFileSync(p));
    }
  };
  walk('src');
  walk('adapters');
  h.update(readFileSync('package-lock.json'));
  return h.digest('hex').slice(0, 16);
}

// The packaged secret-shape rules: rules.yaml compiled to TS, so the CLI never loads a YAML parser to redact.
execFileSync(process.execPath, ['scripts/gen-shape-rules.mjs'], { stdio: 'inherit' });

// Build beside dist/ and swap it in with renames, so a CLI started meanwhile (a parallel test run) sees
// the old build or the new one, never a half-written folder.
const out = `dist.tmp-${process.pid}`;
const id = buildId();
rmSync(out, { recursive: true, force: true });
const { metafile } = await build({
  // version: what bin/outloop.js answers --version from without loading the CLI at all. System mode: the
  // daemon and its per-request worker share the pipeline's chunks.
  entryPoints: { cli: 'src/cli/main.ts', version: 'src/version.ts', outloopd: 'src/system/daemon.ts', worker: 'src/system/worker.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Native addon: loaded from node_modules at run time, only when the OS keychain is used.
  external: ['@napi-rs/keyring', 'node-pty'],
  chunkNames: 'chunks/[name]-[hash]',
  // .mjs for now: each chunk is turned into .cjs below.
  outExtension: { '.js': '.mjs' },
  sourcemap: false,
  minify: true,
  define: { __OUTLOOP_BUILD_ID__: JSON.stringify(id) },
  legalComments: 'none',
  plugins: [builtinsWithoutFacade],
  logLevel: 'warning',
  metafile: true,
});

// esbuild splits only ESM; each chunk is then turned into CommonJS, which src/boot/load.ts compiles
// through V8's code cache (Node 20 has none for modules) and which spares node's ESM loader. Relative
// imports of chunks become require() (dynamic ones too, kept lazy behind a promise); import.meta.url
// becomes the chunk's own file URL.
// import.meta.url in CommonJS: the file's own URL. process.getBuiltinModule, not require: a chunk's
// require is the loader's, which resolves only chunks and packages.
// A getter: the URL is made (node:url's pathToFileURL, about 0.3 ms) only where a chunk reads it, not
// each time the chunk loads (the audit journal's chunk, in every exec, reads it only to load its addon).
const META = 'var __outloop_meta={get url(){return process.getBuiltinModule("node:url").pathToFileURL(__filename).href}};';
const outputs = [...readdirSync(out).filter((f) => f.endsWith('.mjs')), ...readdirSync(join(out, 'chunks')).map((f) => `chunks/${f}`)];
const names = new Set(outputs.map((f) => f.split('/').pop()));
const spec = /(["'])(\.\.?\/(?:chunks\/)?)([\w.-]+)\.mjs\1/g;
for (const f of outputs) {
  const esm = readFileSync(join(out, f), 'utf8').replace(spec, (m, q, dir, name) => (names.has(`${name}.mjs`) ? `${q}${dir}${name}.cjs${q}` : m));
  const { code } = await transform(esm, {
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    minify: true,
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__outloop_meta.url', 'import.meta.dirname': '__dirname' },
    logLevel: 'warning',
  });
  writeFileSync(join(out, f.replace(/\.mjs$/, '.cjs')), (code.includes('__outloop_meta') ? META : '') + code);
  unlinkSync(join(out, f));
}
// The hot pack: what `exec` and `check` load, every chunk of it in one file (dist/hot.pack), which the
// loader compiles once through one code cache entry instead of reading and compiling ~37 files. The
// chunks stay as files too (the daemon, the worker and cold commands load them one by one). A secret
// backend's chunk is never in it: test/backends/deny-loads-nothing watches those files being read.
const HOT_DYNAMIC = ['src/sandbox/run.ts', 'src/redact/shapes/index.ts'];
const rel = (p) => p.slice(out.length + 1).replace(/\.mjs$/, '.cjs');
const metaOutputs = Object.entries(metafile.outputs).filter(([p]) => p.endsWith('.mjs'));
const byEntry = new Map(metaOutputs.filter(([, o]) => o.entryPoint).map(([p, o]) => [o.entryPoint, rel(p)]));
const staticImports = new Map(metaOutputs.map(([p, o]) => [rel(p), o.imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => rel(i.path))]));
const closure = (roots) => {
  const seen = [];
  const visit = (f) => {
    if (seen.includes(f)) return;
    seen.push(f);
    for (const d of staticImports.get(f) ?? []) visit(d);
  };
  for (const r of roots) visit(r);
  return seen;
};
for (const e of HOT_DYNAMIC) if (!byEntry.has(e)) throw new Error(`build: hot chunk for ${e} not found`);
// What `--version` loads stays in files of its own: it must not pay for opening the pack.
const versionOnly = new Set(closure(['version.cjs']));
const pack = closure(['cli.cjs', ...HOT_DYNAMIC.map((e) => byEntry.get(e))]).filter((f) => !versionOnly.has(f));
const backends = new Set([...byEntry].filter(([e]) => e.startsWith('adapters/')).map(([, f]) => f));
if (pack.some((f) => backends.has(f))) throw new Error('build: a secret backend chunk would be in the hot pack');
// The loader keeps which members a cache entry has run in a 16-byte header (src/boot/load.ts).
if (pack.length > 128) throw new Error(`build: ${pack.length} hot chunks, the loader's header holds 128`);
writeFileSync(
  join(out, 'hot.pack'),
  `({${pack.map((f) => `${JSON.stringify(f)}:(function (exports, require, module, __filename, __dirname) {${readFileSync(join(out, f), 'utf8')}\n})`).join(',\n')}})`,
);

// One file each, loaded by node's own require: the chunk loader, and the system-mode client (12 KB, what
// an agent starts on every call there: no chunks, no code cache, nothing of the pipeline).
// The loader keys V8's code cache on a hash of everything it may load, computed here once the rest of
// dist/ is written: V8 checks only a script's length before it trusts cached bytecode, so a key that a
// changed chunk of the same length could share would run the old code.
const distId = () => {
  const h = createHash('sha256');
  for (const f of [...readdirSync(out), ...readdirSync(join(out, 'chunks')).map((c) => `chunks/${c}`)].sort()) {
    if (f.endsWith('.cjs') || f.endsWith('.pack')) h.update(f).update(readFileSync(join(out, f)));
  }
  return h.digest('hex').slice(0, 16);
};
for (const [name, entry] of [['client', 'src/system/client-entry.ts'], ['load', 'src/boot/load.ts']]) {
  await build({
    entryPoints: { [name]: entry },
    outdir: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    outExtension: { '.js': '.cjs' },
    minify: true,
    define: {
      __OUTLOOP_DIST_ID__: JSON.stringify(name === 'load' ? distId() : ''),
      __OUTLOOP_PACK__: JSON.stringify(name === 'load' ? pack : []),
      'import.meta.url': '__outloop_meta.url',
      'import.meta.dirname': '__dirname',
    },
    // The client's peercred addon is found from its own URL; the loader uses none.
    ...(name === 'client' ? { banner: { js: META } } : {}),
    legalComments: 'none',
    plugins: [builtinsWithoutFacade],
    logLevel: 'warning',
  });
}

const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
renameSync(out, 'dist');
rmSync(old, { recursive: true, force: true });

// The JSON Schemas editors use, generated from the same zod source the CLI validates with.
mkdirSync('schema', { recursive: true });
for (const which of ['recipe', 'config']) {
  const out = execFileSync(process.execPath, ['bin/outloop.js', 'schema', which], { encoding: 'utf8' });
  const tmp = `schema/.${which}.schema.json.${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, `schema/${which}.schema.json`);
}
// The catalogue of built-in recipes, generated from the recipe files (the tests fail when it is stale).
execFileSync(process.execPath, ['scripts/gen-recipes-readme.mjs'], { stdio: 'inherit' });
console.log('built dist/ and schema/');
