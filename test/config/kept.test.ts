import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// config/kept.ts: what a spare worker parsed ahead of its request is used only while the files are the
// ones it read. Each test gets a fresh copy of the module (the switch is per process).

const RECIPE = (cmd: string) => `service: demo\nrecipes:\n  go:\n    description: run it\n    run: [${cmd}]\n`;
const CONFIG = (allow: string) => `tenants:\n  acme:\n    projects: [/srv/acme]\n    services:\n      demo:\n        allow: [${allow}]\n`;

let dir: string;
beforeEach(() => {
  vi.resetModules();
  dir = mkdtempSync(join(tmpdir(), 'outloop-kept-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

async function modules() {
  const kept = await import('../../src/config/kept.js');
  const { loadConfig } = await import('../../src/config/load.js');
  const { loadService } = await import('../../src/recipe/load.js');
  return { ...kept, loadConfig, loadService };
}

/** The same bytes' length, other bytes: only the stamp can tell. */
function rewriteSameSize(file: string, from: string, to: string, text: string): void {
  expect(from.length).toBe(to.length);
  writeFileSync(file, text.replace(from, to));
}

describe('kept parse results', () => {
  it('off unless a process turns it on: every load reads the file', async () => {
    const { keptOrLoad } = await modules();
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'one');
    const load = vi.fn(async (read: (f: string) => string) => read(file));
    expect(await keptOrLoad('k', [file], load)).toBe('one');
    expect(await keptOrLoad('k', [file], load)).toBe('one');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('kept while unchanged; loaded again after an edit of the same size, a file appearing, a file replaced', async () => {
    const { keepParsed, keptOrLoad } = await modules();
    keepParsed();
    const file = join(dir, 'a.yaml');
    const extra = join(dir, 'a.yml');
    writeFileSync(file, 'allow: [show]');
    const load = vi.fn(async (read: (f: string) => string) => {
      let more = '';
      try {
        more = read(extra);
      } catch {
        /* missing */
      }
      return read(file) + more;
    });
    const files = [file, extra];
    expect(await keptOrLoad('k', files, load)).toBe('allow: [show]');
    expect(await keptOrLoad('k', files, load)).toBe('allow: [show]');
    expect(load).toHaveBeenCalledTimes(1);

    rewriteSameSize(file, 'show', 'none', 'allow: [show]');
    expect(await keptOrLoad('k', files, load)).toBe('allow: [none]');
    writeFileSync(extra, ' +extra');
    expect(await keptOrLoad('k', files, load)).toBe('allow: [none] +extra');
    // Another file moved into place with the old one's size and times.
    const st = statSync(file);
    const other = join(dir, 'other');
    writeFileSync(other, 'allow: [show]');
    utimesSync(other, st.atime, st.mtime);
    renameSync(other, file);
    expect(await keptOrLoad('k', files, load)).toBe('allow: [show] +extra');
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('once the request has begun, a kept result is used once and nothing more is kept', async () => {
    const { keepParsed, keptOrLoad, useKept } = await modules();
    keepParsed();
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'one');
    const load = vi.fn(async (read: (f: string) => string) => ({ text: read(file) }));
    const ahead = await keptOrLoad('k', [file], load);
    useKept();
    expect(await keptOrLoad('k', [file], load)).toBe(ahead);
    const second = await keptOrLoad('k', [file], load);
    expect(second).toEqual(ahead);
    expect(second).not.toBe(ahead);
    expect(await keptOrLoad('k', [file], load)).not.toBe(second);
    expect(load).toHaveBeenCalledTimes(3);
  });

  it('a load that fails is not kept: the next one tries again', async () => {
    const { keepParsed, keptOrLoad } = await modules();
    keepParsed();
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'x');
    const load = vi.fn(async () => {
      throw new Error('broken');
    });
    await expect(keptOrLoad('k', [file], load)).rejects.toThrow('broken');
    await expect(keptOrLoad('k', [file], load)).rejects.toThrow('broken');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('files read long after their last change (trusted by their stamps): an edit is still seen', async () => {
    const { keepParsed, loadConfig, loadService } = await modules();
    keepParsed();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, CONFIG('go'));
    const recipes = join(dir, 'recipes');
    const other = join(dir, 'team');
    for (const d of [recipes, other]) mkdirSync(d);
    writeFileSync(join(recipes, 'demo.yaml'), RECIPE('"true"'));
    // The clock moves on, so nothing here counts as just changed.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);

    const c1 = await loadConfig(config, {});
    expect(await loadConfig(config, {})).toBe(c1);
    expect(c1.config.tenants.acme!.services.demo!.allow).toEqual(['go']);
    rewriteSameSize(config, 'go', 'no', CONFIG('go'));
    vi.setSystemTime(Date.now() + 60_000);
    const c2 = await loadConfig(config, {});
    expect(c2.config.tenants.acme!.services.demo!.allow).toEqual(['no']);

    const dirs = [recipes, other];
    const s1 = await loadService('demo', dirs);
    expect(await loadService('demo', dirs)).toBe(s1);
    expect(s1!.recipes.get('go')!.run.length).toBe(1);
    // A team folder gains the service: its file joins (and overrides) at the next load.
    writeFileSync(join(other, 'demo.yml'), RECIPE('"false"'));
    const s2 = await loadService('demo', dirs);
    expect(s2!.files).toEqual([join(recipes, 'demo.yaml'), join(other, 'demo.yml')]);
    expect(s2!.recipes.get('go')!.overrides).toBe(join(recipes, 'demo.yaml'));
  });
});
