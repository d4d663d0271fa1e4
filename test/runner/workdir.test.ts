import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDir } from '../../src/runner/workdir.js';

// A run folder holds the recipe's files (a secret, often) and whatever the child wrote: all of it goes
// when the run ends, whichever way the child left it.
describe('run folders', () => {
  it('are 0700 with 0600 files, and removed with what outloop wrote', () => {
    const d = createRunDir({ 'token.txt': 'tok-value', 'body.json': '{}' });
    expect(statSync(d.path).mode & 0o777).toBe(0o700);
    expect(statSync(join(d.path, 'token.txt')).mode & 0o777).toBe(0o600);
    d.remove();
    expect(existsSync(d.path)).toBe(false);
  });

  it('are removed with whatever the child left: files, nested folders, a written file turned into a folder', () => {
    const d = createRunDir({ 'a.txt': 'x', 'b.txt': 'y' });
    writeFileSync(join(d.path, 'left.txt'), 'left behind');
    mkdirSync(join(d.path, 'deep', 'er'), { recursive: true });
    writeFileSync(join(d.path, 'deep', 'er', 'f'), 'z');
    rmSync(join(d.path, 'a.txt'));
    mkdirSync(join(d.path, 'a.txt'));
    writeFileSync(join(d.path, 'a.txt', 'inside'), 'q');
    rmSync(join(d.path, 'b.txt'));
    d.remove();
    expect(existsSync(d.path)).toBe(false);
  });

  it('an empty one, and one already gone, are fine', () => {
    const d = createRunDir({});
    expect(readdirSync(d.path)).toEqual([]);
    d.remove();
    expect(existsSync(d.path)).toBe(false);
    expect(() => d.remove()).not.toThrow();
  });
});
