/**
 * Templating with no logic: `{{params.NAME}}`, `{{secrets.NAME}}`, `{{tenant}}`, `{{project}}`,
 * `{{recipe.dir}}`. A template renders to exactly one string, so an argv element stays one argument
 * whatever a value contains; there is no shell anywhere for a value to escape into.
 */
export type Placeholder =
  | { ns: 'params'; name: string }
  | { ns: 'secrets'; name: string }
  | { ns: 'tenant' }
  | { ns: 'project' }
  | { ns: 'recipe.dir' };

export type Token = { text: string } | { ref: Placeholder; raw: string };

export interface Template {
  source: string;
  tokens: Token[];
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

export function parseTemplate(source: string): { template: Template; errors: string[] } {
  const tokens: Token[] = [];
  const errors: string[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    if (m.index > last) pushText(tokens, source.slice(last, m.index), errors);
    const inner = m[1]!.trim();
    const ref = parsePlaceholder(inner);
    if (ref) tokens.push({ ref, raw: m[0] });
    else errors.push(`unknown placeholder ${m[0]} (known: {{params.NAME}}, {{secrets.NAME}}, {{tenant}}, {{project}}, {{recipe.dir}})`);
    last = m.index + m[0].length;
  }
  if (last < source.length) pushText(tokens, source.slice(last), errors);
  return { template: { source, tokens }, errors };
}

function pushText(tokens: Token[], text: string, errors: string[]): void {
  if (text.includes('{{')) errors.push(`unclosed placeholder in "${text.length > 40 ? `${text.slice(0, 40)}...` : text}"`);
  tokens.push({ text });
}

function parsePlaceholder(inner: string): Placeholder | undefined {
  if (inner === 'tenant' || inner === 'project' || inner === 'recipe.dir') return { ns: inner };
  const m = /^(params|secrets)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner);
  if (!m) return undefined;
  return { ns: m[1] as 'params' | 'secrets', name: m[2]! };
}

export interface RenderValues {
  params: Readonly<Record<string, string>>;
  /** A secret's value, or a marker such as [SECRET:NAME] when rendering for policy and --dry-run. */
  secret: (name: string) => string;
  tenant: string;
  project: string;
  recipeDir: string;
}

export function render(t: Template, v: RenderValues): string {
  let out = '';
  for (const tok of t.tokens) {
    if ('text' in tok) {
      out += tok.text;
      continue;
    }
    const r = tok.ref;
    switch (r.ns) {
      case 'params':
        out += v.params[r.name] ?? '';
        break;
      case 'secrets':
        out += v.secret(r.name);
        break;
      case 'tenant':
        out += v.tenant;
        break;
      case 'project':
        out += v.project;
        break;
      case 'recipe.dir':
        out += v.recipeDir;
        break;
    }
  }
  return out;
}

export function placeholders(t: Template): Placeholder[] {
  return t.tokens.flatMap((tok) => ('ref' in tok ? [tok.ref] : []));
}

/** The marker that stands for a secret wherever a value must not appear (policy, dry-run, check). */
export const secretMarker = (name: string): string => `[SECRET:${name}]`;
