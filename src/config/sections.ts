/**
 * config.yaml cut into its tenants' sections, so that after an edit only the sections that changed are
 * parsed and validated again (1,000 tenants: the first exec after an edit re-reads one, not all). Pure
 * and conservative: only the plain block layout `outloop init` and the tenant commands write is cut; for
 * anything else (flow style, documents, directives, odd indentation, a name twice) it answers undefined
 * and the whole file is validated as before. A section that fails alone also sends the caller to the
 * whole file, so every error is still reported at its own line.
 */
export interface ConfigSections {
  /** The file without its tenants block (and without the `tenants:` line). */
  header: string;
  /** In file order: each tenant's lines, its key line first, indentation kept. */
  tenants: { name: string; text: string }[];
}

const TENANTS_LINE = /^tenants:[ ]*(#.*)?$/;
/** How many spaces a line starts with; -1 for a blank line or a comment. One pass, no regex: 8,000 lines for 1,000 tenants. */
function indentOf(l: string): number {
  let i = 0;
  while (i < l.length && l.charCodeAt(i) === 32) i++;
  return i === l.length || l.charCodeAt(i) === 35 ? -1 : i;
}

export function splitTenants(text: string): ConfigSections | undefined {
  const lines = text.split('\n');
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const c = l.charCodeAt(0);
    // Documents, directives and tabs in indentation: not the plain layout.
    if ((c === 45 || c === 46 || c === 37) && /^(---|\.\.\.|%)/.test(l)) return undefined;
    if (l.includes('\t') && /^[ ]*\t/.test(l)) return undefined;
    if (c === 116 && TENANTS_LINE.test(l)) {
      if (start !== -1) return undefined;
      start = i;
    }
  }
  if (start === -1) return undefined;
  let end = start + 1;
  while (end < lines.length && indentOf(lines[end]!) !== 0) end++;
  const body = lines.slice(start + 1, end);
  const indent = body.map(indentOf).find((n) => n >= 0);
  if (indent === undefined) return undefined;
  const key = new RegExp(`^ {${indent}}([a-z0-9][a-z0-9_-]*):[ ]*(#.*)?$`);
  const tenants: { name: string; lines: string[] }[] = [];
  for (const l of body) {
    const own = indentOf(l);
    if (own === -1) {
      tenants.at(-1)?.lines.push(l);
      continue;
    }
    if (own < indent) return undefined;
    if (own === indent) {
      const m = key.exec(l);
      if (!m) return undefined;
      tenants.push({ name: m[1]!, lines: [l] });
    } else {
      if (!tenants.length) return undefined;
      tenants.at(-1)!.lines.push(l);
    }
  }
  if (new Set(tenants.map((t) => t.name)).size !== tenants.length) return undefined;
  return {
    header: [...lines.slice(0, start), ...lines.slice(end)].join('\n'),
    tenants: tenants.map((t) => ({ name: t.name, text: `${t.lines.join('\n')}\n` })),
  };
}
