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
const blankOrComment = (l: string) => /^[ ]*(#.*)?$/.test(l);

export function splitTenants(text: string): ConfigSections | undefined {
  const lines = text.split('\n');
  if (lines.some((l) => /^(---|\.\.\.|%)/.test(l) || /^[ ]*\t/.test(l))) return undefined;
  const starts = lines.flatMap((l, i) => (TENANTS_LINE.test(l) ? [i] : []));
  if (starts.length !== 1) return undefined;
  const start = starts[0]!;
  let end = start + 1;
  while (end < lines.length && (blankOrComment(lines[end]!) || lines[end]!.startsWith(' '))) end++;
  const body = lines.slice(start + 1, end);
  const first = body.find((l) => !blankOrComment(l));
  if (first === undefined) return undefined;
  const indent = first.length - first.trimStart().length;
  const key = new RegExp(`^ {${indent}}([a-z0-9][a-z0-9_-]*):[ ]*(#.*)?$`);
  const tenants: { name: string; lines: string[] }[] = [];
  for (const l of body) {
    if (blankOrComment(l)) {
      tenants.at(-1)?.lines.push(l);
      continue;
    }
    const own = l.length - l.trimStart().length;
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
