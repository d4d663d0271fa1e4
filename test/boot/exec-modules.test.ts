import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Which of node's modules an exec loads. node:crypto costs 2-3 ms to load, and an exec without secrets, a check and a denial need only SHA-256,
 * HMAC-SHA256 and random bytes, which src/digest.ts takes from native/digest. One static import of
 * node:crypto in a module on that path would load it again on every exec: the built CLI is run here and
 * asked, at exit, which builtins it loaded.
 */
const BIN = resolve('bin/outloop.js');
let base: string;
let home: string;
let project: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'outloop-nocrypto-'));
  home = join(base, 'home');
  project = join(base, 'project');
  mkdirSync(join(home, 'recipes'), { recursive: true });
  mkdirSync(project);
  writeFileSync(join(home, 'config.yaml'), `storeKey: file\ntenants:\n  t:\n    projects: [${JSON.stringify(project)}]\n    services:\n      s: { allow: ["noop", "hello"], sandbox: off }\n`);
  writeFileSync(join(home, 'recipes', 's.yaml'), 'service: s\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n  other:\n    description: not allowed\n    risk: read\n    run: ["true"]\n  hello:\n    description: print a line\n    risk: read\n    run: [echo, hello]\n');
  writeFileSync(join(base, 'hook.cjs'), 'process.on("exit",()=>require("fs").writeFileSync(process.env.HOOK_OUT,JSON.stringify(process.moduleLoadList)))');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function loaded(args: string[], status: number, stdout?: string): string[] {
  const out = join(base, 'modules.json');
  const env = { PATH: process.env.PATH, HOME: base, OUTLOOP_HOME: home, XDG_CACHE_HOME: join(base, 'cache'), HOOK_OUT: out };
  // Twice: the first run of a build writes its code cache and hashes the recipe's program (node:crypto,
  // streamed), which the next run finds in its cache; that next run is the path being asked about.
  for (let i = 0; i < 2; i++) {
    const r = spawnSync(process.execPath, ['--require', join(base, 'hook.cjs'), BIN, ...args], { cwd: project, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(status);
    if (stdout !== undefined) expect(r.stdout).toBe(stdout);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as string[];
}

/** The builtins a bare `node -e 0` loads, through the same hook. */
function bareNode(): string[] {
  const out = join(base, 'bare.json');
  const r = spawnSync(process.execPath, ['--require', join(base, 'hook.cjs'), '-e', '0'], { env: { PATH: process.env.PATH, HOOK_OUT: out }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as string[];
}

describe('the exec path does not load node:crypto', () => {
  it.each([
    ['an exec without secrets', ['exec', 's.noop'], 0],
    ['a check', ['check', 's.noop'], 0],
    ['a denial', ['exec', 's.other'], 77],
  ])('%s', (_name, args, status) => {
    const mods = loaded(args as string[], status as number);
    // The hook's own view works: node:fs is there.
    expect(mods).toContain('NativeModule fs');
    expect(mods.filter((m) => /^NativeModule (crypto|internal\/crypto\/)/.test(m))).toEqual([]);
  });
});

describe('the exec path loads no node:stream', () => {
  // node:stream costs ~2 ms to load and first use: the output sinks are not streams (runner/sink.ts), and
  // exec writes to its descriptors itself (cli/fd-writer.ts) instead of process.stdout, which on a pipe
  // (how agents read exec) would also load node:net.
  it.each([
    ['an exec without output', ['exec', 's.noop'], ''],
    ['an exec printing a line into a pipe', ['exec', 's.hello'], 'hello\n'],
  ])('%s', (_name, args, stdout) => {
    const mods = loaded(args as string[], 0, stdout as string);
    expect(mods).toContain('NativeModule fs');
    // What node itself loads at start (internal/streams/utils, on some versions more) is not ours.
    const bare = new Set(bareNode());
    expect(mods.filter((m) => !bare.has(m) && /^NativeModule (stream|net|tty|internal\/streams\/.*|internal\/fs\/sync_write_stream)$/.test(m))).toEqual([]);
  });
});
