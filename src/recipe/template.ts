/**
 * Templating with no logic: `{{params.NAME}}`, `{{secrets.NAME}}`, `{{tenant}}`, `{{project}}`,
 * `{{recipe.dir}}`. A template renders to exactly one string, so an argv element stays one argument
 * whatever a value contains; there is no shell anywhere for a value to escape into.
 *
 * A placeholder may end in one escaping filter, for values spliced into a body or a URL where the value's
 * own characters would otherwise be read as syntax:
 *   `{{params.title | json}}`  a complete JSON string literal, quotes included (`null` when the parameter
 *                             is unset), also a valid quoted string in a curl config (`-K`);
 *   `{{params.q | url}}`       percent-encoded (RFC 3986 unreserved characters stay as they are).
 */
export type Filter = 'json' | 'url';
export const FILTERS: readonly Filter[] = ['json', 'url'];

export type Placeholder =
  | { ns: 'params'; name: string }
  | { ns: 'secrets'; name: string }
  | { ns: 'tenant' }
  | { ns: 'project' }
  | { ns: 'recipe.dir' };

export type Token = { text: string } | { ref: Placeholder; raw: string; filter?: Filter };

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
    const [head = '', ...pipes] = m[1]!.split('|').map((x) => x.trim());
    const ref = parsePlaceholder(head);
    const filter = pipes[0] as Filter | undefined;
    if (ref && pipes.length > 1) errors.push(`${m[0]} has more than one filter; use one of: ${FILTERS.join(', ')}`);
    else if (ref && filter !== undefined && !FILTERS.includes(filter)) errors.push(`unknown filter "${pipes[0]}" in ${m[0]} (known: ${FILTERS.join(', ')})`);
    else if (ref) tokens.push(filter ? { ref, raw: m[0], filter } : { ref, raw: m[0] });
    else errors.push(`unknown placeholder ${m[0]} (known: {{params.NAME}}, {{secrets.NAME}}, {{tenant}}, {{project}}, {{recipe.dir}}, each optionally followed by | json or | url)`);
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
    out += applyFilter(tok.filter, value(tok.ref, v));
  }
  return out;
}

function value(r: Placeholder, v: RenderValues): string | undefined {
  switch (r.ns) {
    case 'params':
      return v.params[r.name];
    case 'secrets':
      return v.secret(r.name);
    case 'tenant':
      return v.tenant;
    case 'project':
      return v.project;
    case 'recipe.dir':
      return v.recipeDir;
  }
}

function applyFilter(filter: Filter | undefined, raw: string | undefined): string {
  switch (filter) {
    case undefined:
      return raw ?? '';
    case 'json':
      // An unset optional parameter is JSON null, so `"note": {{params.note | json}}` stays valid JSON.
      return raw === undefined ? 'null' : JSON.stringify(raw);
    case 'url':
      // encodeURIComponent leaves !'()* alone; RFC 3986 reserves them, and some servers treat them as syntax.
      return encodeURIComponent(raw ?? '').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
}

export function placeholders(t: Template): Placeholder[] {
  return t.tokens.flatMap((tok) => ('ref' in tok ? [tok.ref] : []));
}

/** The parameters a template references. */
export function paramNames(t: Template): string[] {
  return t.tokens.flatMap((tok) => ('ref' in tok && tok.ref.ns === 'params' ? [tok.ref.name] : []));
}

/** The marker that stands for a secret wherever a value must not appear (policy, dry-run, check). */
export const secretMarker = (name: string): string => `[SECRET:${name}]`;
