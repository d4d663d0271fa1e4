import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintRecipeFile } from '../src/recipe/load.js';

// Every recipe the package ships must lint clean: no errors and no warnings.
describe('built-in recipes', () => {
  const files = readdirSync('recipes').filter((f) => f.endsWith('.yaml'));
  it('exist', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(`${f} lints clean`, async () => {
      const res = await lintRecipeFile(join('recipes', f));
      expect(res.problems).toEqual([]);
      expect(res.recipes.length).toBeGreaterThan(0);
    });
  }
});
