import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_ID, ParseCache } from '../../src/config/cache.js';
import { loadConfig } from '../../src/config/load.js';
import { loadService } from '../../src/recipe/load.js';
import { useTempDirs, write } from './helpers.js';

const tempDir = useTempDirs();

const cacheFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : []);

describe('ParseCache', () => {
  it('round-trips a value for the same path and text', () => {
    const dir = join(tempDir(), '.cache');
    const c = new ParseCache(dir);
    const value = { tenants: { acme: { projects: ['/a'] } }, n: 1 };
    c.set('config', '/x/config.yaml', 'text-1', value);
    expect(c.get('config', '/x/config.yaml', 'text-1')).toEqual(value);
    // A second instance over the same folder sees it: the cache is on disk, not in memory.
    expect(new ParseCache(dir).get('config', '/x/config.yaml', 'text-1')).toEqual(value);
  });

  it('misses when the text, the path or the kind differ', () => {
    const c = new ParseCache(join(tempDir(), '.cache'));
    c.set('config', '/x/config.yaml', 'text-1', { v: 1 });
    expect(c.get('config', '/x/config.yaml', 'text-1 ')).toBeUndefined();
    expect(c.get('config', '/y/config.yaml', 'text-1')).toBeUndefined();
    expect(c.get('recipe', '/x/config.yaml', 'text-1')).toBeUndefined();
  });

  it('a corrupted or forged-key entry misses instead of throwing', () => {
    const dir = join(tempDir(), '.cache');
    const c = new ParseCache(dir);
    c.set('config', '/x/config.yaml', 'text-1', { v: 1 });
    const [file] = cacheFiles(dir);
    expect(file).toBeDefined();
    writeFileSync(file!, '{"key": "abc", "val');
    expect(c.get('config', '/x/config.yaml', 'text-1')).toBeUndefined();
    writeFileSync(file!, JSON.stringify({ key: '0'.repeat(64), value: { v: 2 } }));
    expect(c.get('config', '/x/config.yaml', 'text-1')).toBeUndefined();
  });

  it('an unwritable cache location is silently no cache', () => {
    const root = tempDir();
    write(join(root, 'blocker'), 'a file where the cache folder would go');
    const c = new ParseCache(join(root, 'blocker', '.cache'));
    expect(() => c.set('config', '/x', 't', { v: 1 })).not.toThrow();
    expect(c.get('config', '/x', 't')).toBeUndefined();
  });

  it('running from source there is no build id, so forConfigDir caches nothing and creates no .cache', async () => {
    expect(BUILD_ID).toBeUndefined();
    const dir = tempDir();
    const c = ParseCache.forConfigDir(dir);
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
    const cache = new ParseCache(cacheDir);
    const first = await loadService('demo', [join(root, 'recipes')], cache);
    expect(cacheFiles(cacheDir)).toHaveLength(1);
    // The entry is what the second load returns: prove it by reading the entry through the cache API.
    const hit = cache.get<{ recipes: Array<{ name: string }> }>('recipe', file, RECIPE);
    expect(hit?.recipes.map((r) => r.name)).toEqual(['a']);
    const second = await loadService('demo', [join(root, 'recipes')], cache);
    expect([...second!.recipes.keys()]).toEqual([...first!.recipes.keys()]);
  });

  it('a broken recipe file is never cached, and an edited file is re-linted', async () => {
    const root = tempDir();
    const cacheDir = join(root, '.cache');
    const cache = new ParseCache(cacheDir);
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
    const cache = new ParseCache(join(root, '.cache'));
    const cfg = write(join(root, 'config.yaml'), 'tenants:\n  acme:\n    projects: [~/p]\n');
    const a = await loadConfig(cfg, { HOME: '/h1' }, cache);
    const b = await loadConfig(cfg, { HOME: '/h2' }, cache);
    // The whole file's entry and the per-tenant sections' one (config/sections.ts).
    expect(cacheFiles(join(root, '.cache'))).toHaveLength(2);
    expect(a.projects[0]?.path).toBe('/h1/p');
    expect(b.projects[0]?.path).toBe('/h2/p');
  });
});
