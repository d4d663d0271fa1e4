import type { LoadedRecipe } from './load.js';
import { paramNames, render, type RenderValues, type Template } from './template.js';

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
  const map = (o: Record<string, Template>) => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, render(t, v)]));
  return {
    argv: selectedRun(recipe, values.params).map((t) => render(t, v)),
    env: map(Object.fromEntries(Object.entries(recipe.env).filter(([, t]) => allSet(paramNames(t), values.params)))),
    stdin: recipe.stdin === undefined ? undefined : render(recipe.stdin, v),
    files: map(recipe.files),
  };
}

/**
 * The run elements that take part with these parameter values. An optional group (a nested list in `run`,
 * e.g. `[--data-urlencode, "customer={{params.customer}}"]`) takes part only when every parameter it
 * references has a value, so an API that rejects `customer=` never receives it. Not logic: a group is
 * present or absent as a whole, decided by which parameters were given.
 */
export function selectedRun(recipe: Pick<LoadedRecipe, 'run' | 'runGroups'>, params: Readonly<Record<string, string>>): Template[] {
  const groups = recipe.runGroups;
  if (!groups) return recipe.run;
  const present = new Map<number, boolean>();
  recipe.run.forEach((t, i) => {
    const g = groups[i] ?? -1;
    if (g >= 0) present.set(g, (present.get(g) ?? true) && allSet(paramNames(t), params));
  });
  return recipe.run.filter((_, i) => {
    const g = groups[i] ?? -1;
    return g < 0 || present.get(g) === true;
  });
}

// An env entry works like a group of one: set only when every parameter it references has a value.
function allSet(names: string[], params: Readonly<Record<string, string>>): boolean {
  return names.every((n) => Object.hasOwn(params, n));
}
