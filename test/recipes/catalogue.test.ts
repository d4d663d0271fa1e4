import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** recipes/README.md is generated from the recipe files; a stale checked-in copy fails here. */
const GEN = resolve('scripts/gen-recipes-readme.mjs');
const gen = (...args: string[]) => spawnSync(process.execPath, [GEN, ...args], { encoding: 'utf8' });

describe('recipes/README.md', () => {
  it('is current with the recipe files (run `npm run build` and commit it if this fails)', () => {
    const r = gen('--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  const dir = mkdtempSync(join(tmpdir(), 'outloop-catalogue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--check fails when a recipe changed after the catalogue was written, and lists action, risk, params, scopes', () => {
    copyFileSync('recipes/stripe.yaml', join(dir, 'stripe.yaml'));
    expect(gen('--dir', dir).status).toBe(0);
    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(md).toMatch(/\| `stripe\.get-invoice` \| read \| [^|]+ \| `id` \(`in_\[A-Za-z0-9\]\{1,64\}`\) \| Invoices: Read \|/);
    expect(gen('--check', '--dir', dir).status).toBe(0);
    writeFileSync(join(dir, 'stripe.yaml'), readFileSync(join(dir, 'stripe.yaml'), 'utf8').replace('Retrieve one invoice by id', 'Changed'));
    const stale = gen('--check', '--dir', dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('README.md is stale');
  });
});
