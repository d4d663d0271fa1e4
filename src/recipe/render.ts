import type { LoadedRecipe } from './load.js';
import { render, type RenderValues } from './template.js';

/** What a recipe will run once its templates are filled in. */
export interface RenderedCommand {
  argv: string[];
  env: Record<string, string>;
  stdin: string | undefined;
  files: Record<string, string>;
}

/**
 * One function renders for both policy (secrets as [SECRET:NAME] markers) and the real run (values), so
 * what `check` and `--dry-run` show is exactly what runs.
 */
export function renderRecipe(recipe: LoadedRecipe, values: Omit<RenderValues, 'recipeDir'>): RenderedCommand {
  const v: RenderValues = { ...values, recipeDir: recipe.dir };
  const map = (o: Record<string, import('./template.js').Template>) =>
    Object.fromEntries(Object.entries(o).map(([k, t]) => [k, render(t, v)]));
  return {
    argv: recipe.run.map((t) => render(t, v)),
    env: map(recipe.env),
    stdin: recipe.stdin === undefined ? undefined : render(recipe.stdin, v),
    files: map(recipe.files),
  };
}
