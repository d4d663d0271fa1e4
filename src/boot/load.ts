/**
 * dist/load.cjs: loads the bundle's CommonJS chunks through V8's code cache.
 *
 * An agent starts outloop thousands of times, and compiling its JavaScript was the largest share of a
 * no-op exec. Node 20 has no module compile cache (`module.enableCompileCache` is 22+, and ESM has no
 * cache API at all), so each chunk is compiled here with `vm.Script` and the bytecode V8 produced for it
 * is kept between runs, the way v8-compile-cache does for CommonJS. CommonJS, not ESM, also spares node's
 * ESM loader (resolution, module jobs, fs/promises and readline it loads for itself).
 *
 * The cache holds compiled code of outloop's own source only: V8 serialises bytecode and the literals of
 * the source, never a value the process computed, so no secret can reach it. It is keyed by node version,
 * architecture and a hash of the built files (V8 itself checks only a script's length), lives in the user's cache folder (0700, checked to be the user's own and
 * writable by no one else, since bytecode it accepts would run as outloop), and any failure to read or
 * write it only costs the compile. OUTLOOP_CODE_CACHE=0 turns it off.
 *
 * What exec and check load (~37 chunks) also comes as one file, dist/hot.pack (scripts/build.mjs): one
 * read, one compile and one cache entry instead of one per chunk. A chunk in it runs only when required,
 * as from its own file; the daemon, the worker and cold commands read the chunk files.
 */
import type { Script } from 'node:vm';

/** A hash of dist/ as built (scripts/build.mjs): the cache key. */
declare const __OUTLOOP_DIST_ID__: string;
/** The chunks in dist/hot.pack, by their path in dist/ ('/' between folders). */
declare const __OUTLOOP_PACK__: string[];

const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');
const vm = process.getBuiltinModule('node:vm');

interface Loaded {
  exports: unknown;
}
type Require = (id: string) => unknown;
type Chunk = (exports: unknown, require: Require, module: Loaded, filename: string, dirname: string) => void;

const loaded = new Map<string, Loaded>();
/** Scripts compiled without a usable cache entry: their code is saved when the process exits. */
const fresh: { script: Script; file: string }[] = [];
let cacheDir: string | null | undefined;
/** The folder is there (else nothing is read from it: it is made at exit). */
let cacheMade = false;
let nodeRequire: Require | undefined;

/** Only a folder of this user's that no one else can write: bytecode read from it runs as this user. */
function safeFolder(st: { uid: number; mode: number }): boolean {
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

/** The cache folder when it is safe to use, else null (decided once per process: two stats). */
function cacheFolder(): string | null {
  if (cacheDir !== undefined) return cacheDir;
  cacheDir = null;
  if (process.env.OUTLOOP_CODE_CACHE === '0') return null;
  const home = process.env.HOME;
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : '');
  if (!path.isAbsolute(base)) return null;
  const dir = path.join(base, 'outloop', `v8-${process.version}-${process.arch}-${__OUTLOOP_DIST_ID__}`);
  try {
    // Someone else's cache folder (root under a sudo that kept the caller's HOME): not used, and nothing
    // made in it that its owner could then not write.
    // (~/.cache may not exist yet: then its parent, the home folder, counts.)
    const st = fs.statSync(base, { throwIfNoEntry: false }) ?? fs.statSync(path.dirname(base));
    if (st.uid !== process.getuid?.()) return null;
  } catch {
    return null;
  }
  let st;
  try {
    // Not made yet (undefined): made at exit, once there is code to keep.
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch {
    return null;
  }
  if (st && (!st.isDirectory() || !safeFolder(st))) return null;
  cacheMade = st !== undefined;
  cacheDir = dir;
  return dir;
}

/**
 * Per-chunk paths are cut and glued as strings where the separator is `/`: path.join and friends, called
 * for every chunk and every require, cost an exec about 5 ms of CPU in all (measured; node's normalize
 * was most of it). The paths are absolute and normalised already (from __dirname and esbuild's names).
 */
const SLASH = path.sep === '/';
const baseName = (file: string) => (SLASH ? file.slice(file.lastIndexOf('/') + 1) : path.basename(file));
const dirName = (file: string) => (SLASH ? file.slice(0, file.lastIndexOf('/')) : path.dirname(file));

function cacheFile(dir: string, file: string): string {
  return SLASH ? `${dir}/${baseName(file)}.bin` : path.join(dir, `${baseName(file)}.bin`);
}

function readCache(file: string): Buffer | undefined {
  const dir = cacheFolder();
  if (!dir || !cacheMade) return undefined;
  try {
    return fs.readFileSync(cacheFile(dir, file));
  } catch {
    return undefined;
  }
}

/** A new build made a new folder: older builds' caches would only take up space (other node versions of
 *  this build are kept, as CI and version managers switch between them). */
function pruneOthers(dir: string): void {
  const parent = path.dirname(dir);
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith('v8-') && !name.endsWith(`-${__OUTLOOP_DIST_ID__}`)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

let exitHook = false;
function saveAtExit(): void {
  if (!exitHook) process.once('exit', saveCaches);
  exitHook = true;
}

/** At exit: the bytecode of every chunk that ran without a cache entry, including what ran lazily. */
function saveCaches(): void {
  const dir = cacheFolder();
  const packEntry = pack && packToSave(pack);
  if (!dir || (fresh.length === 0 && !packEntry)) return;
  try {
    if (fs.mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) pruneOthers(dir);
    if (!safeFolder(fs.statSync(dir))) return;
    const write = (file: string, data: Buffer | Uint8Array[]) => {
      const target = cacheFile(dir, file);
      const tmp = `${target}.${process.pid}.tmp`;
      // A temp name and a rename: parallel runs each write whole files, and a reader never sees half.
      fs.writeFileSync(tmp, Array.isArray(data) ? Buffer.concat(data) : data, { mode: 0o600 });
      fs.renameSync(tmp, target);
    };
    for (const { script, file } of fresh) write(file, script.createCachedData());
    if (packEntry) write(PACK_FILE, packEntry);
  } catch {
    // A read-only or full home: the next run compiles again, nothing else changes.
  }
}

/**
 * The pack's cache entry starts with one bit per member that had run in the process that wrote it: V8
 * keeps bytecode only of functions that ran, so an entry written by `outloop init` would leave every exec
 * compiling its own chunks. A process that ran members the entry lacks writes it again, with theirs.
 */
const HEADER = 16;
interface Pack {
  chunks: Record<string, Chunk>;
  script: Script;
  /** The entry's header when V8 accepted it. */
  had: Uint8Array | undefined;
  ran: Uint8Array;
}
let pack: Pack | undefined;
const PACK_FILE = path.join(__dirname, 'hot.pack');
const PACKED = new Map(__OUTLOOP_PACK__.map((f, i) => [f, i] as const));

function openPack(): Pack {
  const entry = readCache(PACK_FILE);
  const cachedData = entry && entry.length > HEADER ? entry.subarray(HEADER) : undefined;
  const script = new vm.Script(fs.readFileSync(PACK_FILE, 'utf8'), { filename: PACK_FILE, ...(cachedData ? { cachedData } : {}) });
  saveAtExit();
  const had = cachedData && !script.cachedDataRejected ? entry!.subarray(0, HEADER) : undefined;
  return { chunks: script.runInThisContext() as Record<string, Chunk>, script, had, ran: new Uint8Array(HEADER) };
}

/** The chunk from the pack, when it is one of its members. */
function fromPack(file: string): Chunk | undefined {
  const key = file.startsWith(__dirname) ? file.slice(__dirname.length + 1) : '';
  const i = PACKED.get(SLASH ? key : key.split(path.sep).join('/'));
  if (i === undefined) return undefined;
  try {
    pack ??= openPack();
  } catch {
    // No readable pack (a half-copied install): every chunk has its own file too.
    PACKED.clear();
    return undefined;
  }
  pack.ran[i >> 3]! |= 1 << (i & 7);
  return pack.chunks[__OUTLOOP_PACK__[i]!];
}

function packToSave(p: Pack): Uint8Array[] | undefined {
  const had = p.had;
  if (had && p.ran.every((bits, i) => (bits & ~had[i]!) === 0)) return undefined;
  const header = p.ran.map((bits, i) => bits | (had?.[i] ?? 0));
  return [header, p.script.createCachedData()];
}

function compile(file: string): Chunk {
  const source = fs.readFileSync(file, 'utf8');
  const cachedData = readCache(file);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  if (!cachedData || script.cachedDataRejected) {
    saveAtExit();
    fresh.push({ script, file });
  }
  return script.runInThisContext() as Chunk;
}

/** Load one chunk of dist/ (a path ending .cjs) and what it requires, each once. */
export function load(file: string): unknown {
  const known = loaded.get(file);
  if (known) return known.exports;
  const mod: Loaded = { exports: {} };
  loaded.set(file, mod);
  const chunk = fromPack(file) ?? compile(file);
  const dir = dirName(file);
  // Chunks name each other by relative path; anything else (the keychain and pty native packages) goes
  // to node's own require, resolved from this chunk's folder.
  const require: Require = (id) => {
    // A sibling (`./name.cjs`, `./chunks/name.cjs`: what esbuild writes) is the folder plus the name.
    if (SLASH && id.startsWith('./') && !id.includes('/.')) return load(dir + id.slice(1));
    if (id.startsWith('./') || id.startsWith('../')) return load(path.join(dir, id));
    nodeRequire ??= process.getBuiltinModule('node:module').createRequire(file);
    return nodeRequire(id);
  };
  chunk(mod.exports, require, mod, file, dir);
  return mod.exports;
}

/** The exports of entry dist/<name>.cjs. */
export function entry<T>(name: string): T {
  return load(path.join(__dirname, `${name}.cjs`)) as T;
}

// `node dist/load.cjs NAME ARGS...` runs entry NAME (the daemon starts its workers so).
if (require.main === module) entry(process.argv[2] ?? '');
