import type { BrokerOutcome } from '../broker/exec.js';
import { loadRequestContext, type Environment } from '../broker/context.js';
import { allRecipes, grantChecker } from '../recipe/catalogue.js';
import { asOutloopError, Exit, type OutloopError } from '../errors.js';
import { paramsJsonSchema, toolName, type InputSchema } from '../recipe/json-schema.js';
import type { LoadedRecipe } from '../recipe/load.js';

/**
 * What the MCP server shows and how it answers, kept apart from the SDK so it reads (and tests) as plain
 * data: one tool per recipe the tenant's grants allow, and a call's outcome as MCP tool content.
 */
export interface McpTool {
  name: string;
  description: string;
  inputSchema: InputSchema;
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; openWorldHint: true };
}

export interface ToolTarget {
  service: string;
  recipe: string;
}

export interface Catalogue {
  tools: McpTool[];
  /** Every recipe by tool name, granted or not: a call to an ungranted one still goes to policy (and audit). */
  targets: Map<string, ToolTarget & { granted: boolean }>;
  /** Tool names two recipes share after sanitising; the later recipe is left out (and said so on stderr). */
  clashes: string[];
}

export async function loadCatalogue(env: Environment, assertedTenant?: string): Promise<Catalogue> {
  const ctx = await loadRequestContext(env);
  // A tenant asserted that is not this folder's: nothing is listed, and every call is denied wrong_tenant.
  const mismatch = assertedTenant !== undefined && ctx.binding !== null && ctx.binding.tenant !== assertedTenant;
  const isGranted = mismatch ? () => false : grantChecker(ctx);
  const recipes = await allRecipes(ctx.recipeDirs, ctx.cache);
  const tools: McpTool[] = [];
  const targets: Catalogue['targets'] = new Map();
  const clashes: string[] = [];
  // Granted recipes first, so a clash never hides a granted tool behind an ungranted one.
  const ordered = [...recipes.filter(isGranted), ...recipes.filter((r) => !isGranted(r))];
  for (const r of ordered) {
    const name = toolName(r.service, r.name);
    const granted = isGranted(r);
    if (targets.has(name)) {
      if (granted) clashes.push(`${name} (${r.service}.${r.name})`);
      continue;
    }
    targets.set(name, { service: r.service, recipe: r.name, granted });
    if (granted) tools.push(toolOf(r, name));
  }
  return { tools, targets, clashes };
}

function toolOf(r: LoadedRecipe, name: string): McpTool {
  return {
    name,
    description: r.description,
    inputSchema: paramsJsonSchema(r.params),
    annotations: {
      title: `${r.service}.${r.name}`,
      readOnlyHint: r.risk === 'read',
      destructiveHint: r.risk === 'admin',
      openWorldHint: true,
    },
  };
}

export type ArgsResult = { ok: true; params: Record<string, string> } | { ok: false; error: ToolResult };

/**
 * MCP arguments are JSON values; the pipeline takes text, as from `-p k=v`. Numbers and booleans become
 * their text and validateParams() judges them like any other value. null means "not given". An object or
 * array has no text form a parameter could mean, so it is refused here, like a malformed `-p` on the
 * command line, before any policy, secret or child.
 */
export function toParams(args: Record<string, unknown> | undefined): ArgsResult {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(args ?? {})) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') params[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
    else {
      return {
        ok: false,
        error: errorResult('bad_param', Exit.badParam, `parameter "${k}" must be a single value (string, number or boolean), got ${Array.isArray(v) ? 'an array' : 'an object'}`, 'Pass one value per parameter, as the tool\'s input schema describes.'),
      };
    }
  }
  return { ok: true, params };
}

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

/** A denial, a bad argument, an approval still pending, a failure: code, reason and the next step. */
export function errorResult(code: string, exitCode: number, reason: string, next: string | undefined, extra: Record<string, unknown> = {}): ToolResult {
  const text = [`outloop: ${reason} [${code}]`, ...(next ? [`next: ${next}`] : [])].join('\n');
  return {
    isError: true,
    content: [{ type: 'text', text }],
    structuredContent: { ok: false, code, reason, next: next ?? null, exitCode, ...extra },
  };
}

export function failureResult(err: unknown): ToolResult {
  const e: OutloopError = asOutloopError(err);
  const auditId = (e as { auditId?: string }).auditId;
  return errorResult(e.code, e.exitCode, e.message, e.next, auditId ? { auditId } : {});
}

export function outcomeResult(out: BrokerOutcome): ToolResult {
  switch (out.kind) {
    case 'ran': {
      const content: ToolResult['content'] = [{ type: 'text', text: out.stdout }];
      if (out.stderr) content.push({ type: 'text', text: `stderr:\n${out.stderr}` });
      // The child saw only a bare 403/502 from the egress proxy: say why, and what to do.
      for (const n of out.network ?? []) content.push({ type: 'text', text: `network: ${n.reason} [${n.code}]\nnext: ${n.next}` });
      const what = out.timedOut ? `timed out after ${out.plan.recipe.timeoutMs} ms (exit code ${out.exitCode})` : `exit code ${out.exitCode}`;
      content.push({ type: 'text', text: `${what}; audit ${out.auditId}` });
      return {
        content,
        isError: out.exitCode !== 0,
        structuredContent: { ok: out.exitCode === 0, exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr, redactions: out.redactions, auditId: out.auditId,
          ...(out.network ? { network: out.network } : {}) },
      };
    }
    case 'denied':
    case 'checked': {
      const d = out.decision;
      if (d.allow) return errorResult('internal', Exit.internal, 'the request was checked but not run', undefined, { auditId: out.auditId });
      if (out.kind === 'denied' && d.code === 'approval_required') {
        // The next step names the approval id; it is in the text and in the structured result.
        return errorResult(d.code, out.exitCode, out.approvalId ? `${d.reason} (approval id ${out.approvalId})` : d.reason, d.next, {
          decision: 'approval_required',
          approvalId: out.approvalId ?? null,
          auditId: out.auditId,
        });
      }
      return errorResult(d.code, out.exitCode, d.reason, d.next, { decision: 'deny', auditId: out.auditId });
    }
    case 'dry-run':
      return errorResult('internal', Exit.internal, 'a dry run is not an MCP call', undefined, { auditId: out.auditId });
  }
}
