import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUILD_ID, ParseCache } from '../../src/config/cache.js';
import { loadConfig } from '../../src/config/load.js';
import { loadService } from '../../src/recipe/load.js';
import { useTempDirs, write } from './helpers.js';

const tempDir = useTempDirs();
const KEY = Buffer.alloc(32, 9);

const cacheFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : []);

describe('ParseCache', () => {
  it('round-trips a value for the same path and text', () => {
    const dir = join(tempDir(), '.cache');
    const c = new ParseCache(dir, () => KEY);
    const value = { tenants: { acme: { projects: ['/a'] } }, n: 1 };
    c.set('config', '/x/config.yaml', 'text-1', value);
    expect(c.get('config', '/x/config.yaml', 'text-1')).toEqual(value);
    // A second instance over the same folder sees it: the cache is on disk, not in memory.
    expect(new ParseCache(dir, () => KEY).get('config', '/x/config.yaml', 'text-1')).toEqual(value);
  });

  it('misses when the text, the path or the kind differ', () => {
    const c = new ParseCache(join(tempDir(), '.cache'), () => KEY);
    c.set('config', '/x/config.yaml', 'text-1', { v: 1 });
    expect(c.get('config', '/x/config.yaml', 'text-1 ')).toBeUndefined();
    expect(c.get('config', '/y/config.yaml', 'text-1')).toBeUndefined();
    expect(c.get('recipe', '/x/config.yaml', 'text-1')).toBeUndefined();
  });

  it('a corrupted or forged-key entry misses instead of throwing', () => {
    const dir = join(tempDir(), '.cache');
    const c = new ParseCache(dir, () => KEY);
    c.set('config', '/x/config.yaml', 'text-1', { v: 1 });
    const [file] = cacheFiles(dir);
    expect(file).toBeDefined();
    writeFileSync(file!, '{"key": "abc", "val');
    expect(c.get('config', '/x/config.yaml', 'text-1')).toBeUndefined();
    writeFileSync(file!, JSON.stringify({ key: '0'.repeat(64), value: { v: 2 } }));
    expect(c.get('config', '/x/config.yaml', 'text-1')).toBeUndefined();
  });

  it('an entry edited with its key kept (the YAML unchanged) fails its MAC and misses', () => {
    const dir = join(tempDir(), '.cache');
    const c = new ParseCache(dir, () => KEY);
    c.set('recipe', '/x/pay.yaml', 'text-1', { run: ['curl', '-d', 'amount={{params.amount}}'] });
    const [file] = cacheFiles(dir);
    const forged = readFileSync(file!, 'utf8').replace('amount={{params.amount}}', 'amount=99999');
    expect(forged).toContain('amount=99999');
    writeFileSync(file!, forged);
    expect(c.get('recipe', '/x/pay.yaml', 'text-1')).toBeUndefined();
    // Another install's key does not read this one's entries either.
    c.set('recipe', '/x/pay.yaml', 'text-1', { v: 1 });
    expect(new ParseCache(dir, () => Buffer.alloc(32, 1)).get('recipe', '/x/pay.yaml', 'text-1')).toBeUndefined();
    // No key to read: no cache, and no throw.
    const none = new ParseCache(dir, () => { throw new Error('no key'); });
    expect(none.get('recipe', '/x/pay.yaml', 'text-1')).toBeUndefined();
  });

  it('an unwritable cache location is silently no cache', () => {
    const root = tempDir();
    write(join(root, 'blocker'), 'a file where the cache folder would go');
    const c = new ParseCache(join(root, 'blocker', '.cache'), () => KEY);
    expect(() => c.set('config', '/x', 't', { v: 1 })).not.toThrow();
    expect(c.get('config', '/x', 't')).toBeUndefined();
  });

  it('running from source there is no build id, so forConfigDir caches nothing and creates no .cache', async () => {
    expect(BUILD_ID).toBeUndefined();
    const dir = tempDir();
    const c = ParseCache.forConfigDir(dir, () => KEY);
    c.set('config', join(dir, 'config.yaml'), 'x', { v: 1 });
    expect(c.get('config', join(dir, 'config.yaml'), 'x')).toBeUndefined();
    const cfg = write(join(dir, 'config.yaml'), 'tenants: {}\n');
    await loadConfig(cfg, {}, c);
    expect(existsSync(join(dir, '.cache'))).toBe(false);
  });
});

describe('the loaders with a cache', () => {
  const RECIPE = 'service: demo\nrecipes:\n  a:\n    description: A\n    run: [sh, -c, "true"]\n';

  it('loadService caches a valid recipe file and serves the next load from it', async () => {
    const root = tempDir();
    const cacheDir = join(root, '.cache');
    const file = write(join(root, 'recipes', 'demo.yaml'), RECIPE);
    const cache = new ParseCache(cacheDir, () => KEY);
    const first = await loadService('demo', [join(root, 'recipes')], cache);
    expect(cacheFiles(cacheDir)).toHaveLength(1);
    // The entry is what the second load returns: prove it by reading the entry through the cache API.
    const hit = cache.get<{ recipes: Array<{ name: string }> }>('recipe', file, RECIPE);
    expect(hit?.recipes.map((r) => r.name)).toEqual(['a']);
    const second = await loadService('demo', [join(root, 'recipes')], cache);
    expect([...second!.recipes.keys()]).toEqual([...first!.recipes.keys()]);
  });

  it('a forged entry (the YAML byte-identical) is not what runs: the recipe and its hash follow the YAML', async () => {
    const root = tempDir();
    const cacheDir = join(root, '.cache');
    const yaml = 'service: pay\nrecipes:\n  charge:\n    description: charge\n    params:\n      amount: { type: integer }\n    run: [curl, -d, "amount={{params.amount}}", "https://api.example.com/charge"]\n';
    const file = write(join(root, 'recipes', 'pay.yaml'), yaml);
    const cache = new ParseCache(cacheDir, () => KEY);
    const honest = (await loadService('pay', [join(root, 'recipes')], cache))!.recipes.get('charge')!;
    const [entry] = cacheFiles(cacheDir);
    // The attack: the cached template for "amount={{params.amount}}" becomes a fixed amount=99999, in
    // whatever format the entry has (a MAC line first, or not), its key and file hash kept.
    const raw = readFileSync(entry!, 'utf8');
    const nl = raw.indexOf('\n');
    const macLine = nl === 64 ? raw.slice(0, nl + 1) : '';
    const payload = JSON.parse(macLine ? raw.slice(nl + 1) : raw) as { value: { recipes: { run: unknown[] }[] } };
    payload.value.recipes[0]!.run[2] = { source: 'amount={{params.amount}}', tokens: [{ text: 'amount=99999' }] };
    writeFileSync(entry!, macLine + JSON.stringify(payload));
    const loaded = (await loadService('pay', [join(root, 'recipes')], new ParseCache(cacheDir, () => KEY)))!.recipes.get('charge')!;
    expect(loaded.run).toEqual(honest.run);
    expect(loaded.fileSha256).toBe(createHash('sha256').update(yaml).digest('hex'));
    expect(readFileSync(file, 'utf8')).toBe(yaml);
  });

  it('a broken recipe file is never cached, and an edited file is re-linted', async () => {
    const root = tempDir();
    const cacheDir = join(root, '.cache');
    const cache = new ParseCache(cacheDir, () => KEY);
    write(join(root, 'recipes', 'demo.yaml'), RECIPE.replace('run: [sh', 'run: ["{{secrets.X}}", sh'));
    await expect(loadService('demo', [join(root, 'recipes')], cache)).rejects.toThrow(/secrets/);
    expect(cacheFiles(cacheDir)).toHaveLength(0);
    write(join(root, 'recipes', 'demo.yaml'), RECIPE);
    expect((await loadService('demo', [join(root, 'recipes')], cache))?.recipes.has('a')).toBe(true);
    write(join(root, 'recipes', 'demo.yaml'), RECIPE.replace('  a:', '  b:'));
    expect([...(await loadService('demo', [join(root, 'recipes')], cache))!.recipes.keys()]).toEqual(['b']);
  });

  it('loadConfig re-resolves project paths on every load even when the config comes from the cache', async () => {
    const root = tempDir();
    const cache = new ParseCache(join(root, '.cache'), () => KEY);
    const cfg = write(join(root, 'config.yaml'), 'tenants:\n  acme:\n    projects: [~/p]\n');
    const a = await loadConfig(cfg, { HOME: '/h1' }, cache);
    const b = await loadConfig(cfg, { HOME: '/h2' }, cache);
    // The whole file's entry and the per-tenant sections' one (config/sections.ts).
    expect(cacheFiles(join(root, '.cache'))).toHaveLength(2);
    expect(a.projects[0]?.path).toBe('/h1/p');
    expect(b.projects[0]?.path).toBe('/h2/p');
  });
});
