import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// dist/load.cjs keeps V8's code cache of each chunk between runs. Bytecode it accepts runs as outloop, so
// the folder must be the user's own and closed to others; a bad entry must cost only a compile.
const BIN = resolve('bin/outloop.js');
let base: string;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: base, XDG_CACHE_HOME: join(base, 'cache'), ...env }, encoding: 'utf8' });
const cacheDirs = () => (existsSync(join(base, 'cache', 'outloop')) ? readdirSync(join(base, 'cache', 'outloop')).filter((n) => n.startsWith('v8-')) : []);
const cacheDir = () => join(base, 'cache', 'outloop', cacheDirs()[0]!);
const entries = () => Object.fromEntries(readdirSync(cacheDir()).map((f) => [f, statSync(join(cacheDir(), f)).ino]));

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'outloop-codecache-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('the V8 code cache (dist/load.cjs)', () => {
  it('is written on the first run (0700 folder, 0600 files) and used as it is on the next', () => {
    expect(run(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(cacheDirs()).toHaveLength(1);
    expect(cacheDirs()[0]).toContain(`v8-${process.version}-${process.arch}-`);
    expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
    const first = entries();
    expect(Object.keys(first)).toContain('version.cjs.bin');
    for (const f of Object.keys(first)) expect(statSync(join(cacheDir(), f)).mode & 0o777).toBe(0o600);
    // Accepted entries are not written again (a rejected one would be replaced, with a new inode).
    expect(run(['--version']).status).toBe(0);
    expect(entries()).toEqual(first);
    // A command that loads more chunks adds theirs.
    expect(run(['schema', 'recipe']).status).toBe(0);
    expect(Object.keys(entries()).length).toBeGreaterThan(Object.keys(first).length);
  });

  it('the hot pack\'s entry is written again by a run that ran more of its chunks, then left alone', () => {
    // An exec that runs its child loads the sandbox and redaction chunks, which a denial does not.
    const home = join(base, 'outloop');
    const project = join(base, 'project');
    mkdirSync(join(home, 'recipes'), { recursive: true });
    mkdirSync(project);
    writeFileSync(join(home, 'config.yaml'), `tenants:\n  t:\n    projects: [${JSON.stringify(project)}]\n    services:\n      s:\n        allow: ["*"]\n        sandbox: off\nstoreKey: file\n`);
    writeFileSync(join(home, 'recipes', 's.yaml'), 'service: s\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n');
    const exec = (...extra: string[]) =>
      spawnSync(process.execPath, [BIN, 'exec', 's.noop', ...extra], { cwd: project, env: { PATH: process.env.PATH, HOME: base, XDG_CACHE_HOME: join(base, 'cache'), OUTLOOP_HOME: home }, encoding: 'utf8' }).status;
    const packEntry = () => statSync(join(cacheDir(), 'hot.pack.bin')).ino;
    expect(exec('--tenant', 'other')).toBe(77);
    const denied = packEntry();
    expect(exec()).toBe(0);
    const ran = packEntry();
    expect(ran).not.toBe(denied);
    expect(exec()).toBe(0);
    expect(exec('--tenant', 'other')).toBe(77);
    expect(packEntry()).toBe(ran);
  });

  it('an install without its pack (half copied) loads every chunk from its own file', () => {
    const copy = join(base, 'pkg');
    for (const d of ['bin', 'dist']) cpSync(resolve(d), join(copy, d), { recursive: true });
    writeFileSync(join(copy, 'package.json'), readFileSync(resolve('package.json')));
    rmSync(join(copy, 'dist', 'hot.pack'));
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'outloop.js'), 'schema', 'recipe'], { env: { PATH: process.env.PATH, HOME: base, XDG_CACHE_HOME: join(base, 'cache') }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('$schema');
  });

  it('a corrupt entry costs only a compile: the output is right and the entry is replaced', () => {
    run(['--version']);
    const file = join(cacheDir(), 'version.cjs.bin');
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size, 0x41));
    const before = statSync(file).ino;
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(statSync(file).ino).not.toBe(before);
  });

  it('a folder others can write is neither read nor written', () => {
    run(['--version']);
    chmodSync(cacheDir(), 0o777);
    const file = join(cacheDir(), 'version.cjs.bin');
    writeFileSync(file, 'planted');
    const before = statSync(file).ino;
    rmSync(join(cacheDir(), readdirSync(cacheDir()).find((f) => f !== 'version.cjs.bin')!));
    const listed = readdirSync(cacheDir());
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    // Read and rejected, it would have been replaced: it was not touched at all.
    expect(statSync(file).ino).toBe(before);
    // Nor was the removed entry made again.
    expect(readdirSync(cacheDir())).toEqual(listed);
  });

  it('an older build\'s cache is removed when this build makes its own; OUTLOOP_CODE_CACHE=0 writes nothing', () => {
    const old = join(base, 'cache', 'outloop', `v8-${process.version}-${process.arch}-0000000000000000`);
    mkdirSync(old, { recursive: true, mode: 0o700 });
    writeFileSync(join(old, 'cli.cjs.bin'), 'old');
    expect(run(['--version'], { OUTLOOP_CODE_CACHE: '0' }).status).toBe(0);
    expect(cacheDirs()).toEqual([old.split('/').pop()]);
    expect(run(['--version']).status).toBe(0);
    expect(cacheDirs()).toHaveLength(1);
    expect(cacheDirs()[0]).not.toBe(old.split('/').pop());
  });

  // Needs root to own a folder as someone else: CI runs as root, and there it must run.
  it.skipIf(process.getuid?.() !== 0 && !process.env.CI)('a cache folder in someone else\'s home (root under a sudo that kept HOME) is neither used nor made', () => {
    const theirs = mkdtempSync(join(tmpdir(), 'outloop-codecache-theirs-'));
    chownSync(theirs, 65534, 65534);
    const r = spawnSync(process.execPath, [BIN, '--version'], { env: { PATH: process.env.PATH, HOME: theirs }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readdirSync(theirs)).toEqual([]);
    rmSync(theirs, { recursive: true, force: true });
  });

  it('a cache folder that cannot be made does not stop the command', () => {
    writeFileSync(join(base, 'cache'), 'a file where the folder would be');
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
