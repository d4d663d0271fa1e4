import type { Config } from '../config/schema.js';
import { budgetRefusal, budgetsFor, describeAllow, grantExpired, paramLimitFailure, recipeRefusal, type Budget, type Usage } from './guardrails.js';
import type { LoadedRecipe, ServiceRecipes } from '../recipe/load.js';
import { validateParams } from '../recipe/params.js';
import { renderRecipe, selectedRun, type RenderedCommand } from '../recipe/render.js';
import { secretMarker } from '../recipe/template.js';
import { checkUrl, findUrls } from './hosts.js';
import { tenantGates, type TenantBinding } from './tenant.js';
import { sandboxMode, sandboxVerdict, type SandboxMode } from './sandbox.js';
import { approvalKey, approvalTtlMs, approvalVerdict, needsApproval, type Approvals } from './approvals.js';
import { effectiveContract, type OutputContract } from '../output/contract.js';
import { gateLog, type GateResult } from './gates.js';

/**
 * The policy decision, as a pure function of the request and what config and recipes say. It imports no
 * secret backend and no runner: it cannot touch a secret, so a denial cannot either. Gates run in a fixed
 * order and the first that fails decides; `check` prints all of them.
 */
export type DenyCode =
  | 'no_tenant'
  | 'wrong_tenant'
  | 'service_not_granted'
  | 'unknown_service'
  | 'unknown_recipe'
  | 'recipe_not_allowed'
  | 'secret_not_bound'
  | 'bad_param'
  | 'host_not_allowed'
  | 'grant_expired'
  | 'recipe_denied'
  | 'risk_not_allowed'
  | 'param_not_allowed'
  | 'budget_exhausted'
  | 'approval_required'
  | 'approval_denied'
  | 'approval_expired'
  | 'sandbox_unavailable';

export type GateName = 'tenant' | 'assertion' | 'service' | 'recipe' | 'risk' | 'secrets' | 'params' | 'hosts' | 'approval' | 'budget';
// Budget last: only a request that passes everything else counts against one. Approval just before it: a
// request waiting for a person spends no budget.
export const GATES: readonly GateName[] = ['tenant', 'assertion', 'service', 'recipe', 'risk', 'secrets', 'params', 'hosts', 'approval', 'budget'];

export type Gate = GateResult<GateName>;

export interface PolicyRequest {
  service: string;
  recipe: string;
  params: Record<string, string>;
  /** --tenant / OUTLOOP_TENANT: what the caller believes the tenant is. */
  assertedTenant?: string | undefined;
  cwd: string;
}

export interface PolicyContext {
  binding: TenantBinding | null;
  tenants: Config['tenants'];
  service: ServiceRecipes | undefined;
  configFile: string;
  /** The decision's clock (ms since the epoch), for grants that end by themselves; defaults to now. */
  now?: number;
  /** Allowed calls on record per budget (the broker reads them under a lock); none when absent. */
  usage?: Usage;
  /** Approval records per request key (the broker reads them under a lock); none when absent. */
  approvals?: Approvals;
  /** Can this machine sandbox a child (found by the broker)? Undefined: not looked, `required` denies. */
  sandboxAvailable?: boolean;
}

/** What an approval_required decision asks a person to approve: exactly what would run, never a secret. */
export interface ApprovalRequest {
  key: string;
  tenant: string;
  service: string;
  recipe: string;
  risk: LoadedRecipe['risk'];
  params: Record<string, string>;
  recipeSha256: string;
  ttlMs: number;
  reasonRequired: boolean;
  /** The record still waiting for this exact request, if the snapshot has one. */
  pendingId?: string;
}

export interface Plan {
  tenant: string;
  project: string;
  service: string;
  recipe: LoadedRecipe;
  params: Record<string, string>;
  /** Logical secret name -> reference as written in config (`{{tenant}}` not yet expanded). */
  secretRefs: Record<string, string>;
  /** The command with every secret shown as [SECRET:NAME]. */
  preview: RenderedCommand;
  /** Secrets the child gets as per-run placeholders (the grant's `placeholder: true`); the proxy puts the values in. */
  placeholders?: string[];
  /** The budgets this request counts against, which the broker charges when it runs. */
  budgets: Budget[];
  /** The approval this run uses (the broker marks it used in the same locked step as the decision). */
  approval?: { id: string; key: string };
  /** The output contract after the grant tightened the recipe's (src/output/contract.ts). */
  output?: OutputContract;
  /** The grant asks for a recording of each run. */
  record?: boolean;
  /** The effective sandbox mode, and whether a sandbox is available to honour it. */
  sandbox: { mode: SandboxMode; available: boolean };
}

export type Decision =
  | { allow: true; gates: Gate[]; plan: Plan }
  | { allow: false; gates: Gate[]; code: DenyCode; reason: string; next: string; param?: string; approval?: ApprovalRequest };

export function decide(req: PolicyRequest, ctx: PolicyContext): Decision {
  const log = gateLog(GATES);
  const gates = log.gates;
  const { pass, fail } = log;
  const deny = (name: GateName, code: DenyCode, reason: string, next: string, param?: string, approval?: ApprovalRequest): Decision =>
    ({ allow: false, gates: fail(name, reason), code, reason, next, ...(param === undefined ? {} : { param }), ...(approval ? { approval } : {}) });
  const target = `${req.service}.${req.recipe}`;

  const t = tenantGates(ctx.binding, req.assertedTenant, req.cwd, ctx.configFile);
  for (const g of t.passed) pass(g.name, g.detail);
  if (!t.ok) return deny(t.gate, t.code, t.reason, t.next);
  const b = t.binding;

  // Own properties only: a service called "constructor" must not find Object.prototype.constructor.
  const services = ctx.tenants[b.tenant]?.services ?? {};
  const grant = Object.hasOwn(services, req.service) ? services[req.service] : undefined;
  if (!grant) {
    return deny('service', 'service_not_granted', `tenant "${b.tenant}" has no grant for service "${req.service}"`,
      `Ask a person to add tenants.${b.tenant}.services.${req.service} to ${ctx.configFile}; \`outloop recipes list\` shows what is granted here.`);
  }
  const grantPath = `tenants.${b.tenant}.services.${req.service}`;
  const now = ctx.now ?? Date.now();
  const ended = grantExpired(grant, now);
  if (ended) {
    return deny('service', 'grant_expired', `tenant "${b.tenant}"'s grant for service "${req.service}" ended at ${ended.until}`,
      `Stop: this access was temporary. Ask a person to renew it (${grantPath}.until in ${ctx.configFile}) if it is still needed.`);
  }
  pass('service', `${req.service} granted to ${b.tenant}${grant.until ? ` until ${grant.until}` : ''}`);

  if (!ctx.service) {
    return deny('recipe', 'unknown_service', `no recipe file defines service "${req.service}"`,
      'Run `outloop recipes list` to see the services and recipes that exist.');
  }
  const recipe = ctx.service.recipes.get(req.recipe);
  if (!recipe) {
    const known = [...ctx.service.recipes.keys()].sort();
    return deny('recipe', 'unknown_recipe', `service "${req.service}" has no recipe "${req.recipe}" (it has: ${known.join(', ') || 'none'})`,
      `Run \`outloop recipes show ${req.service}\` to see its recipes and parameters.`);
  }
  const refusal = recipeRefusal(grant, recipe, now);
  switch (refusal?.code) {
    case 'recipe_denied':
      return deny('recipe', 'recipe_denied', `${target} is denied for tenant "${b.tenant}": ${refusal.reason}`,
        `Do not retry or work around it: the rule is ${grantPath}.deny.${refusal.rule}; ask a person if the task needs it.`);
    case 'recipe_not_allowed':
      return deny('recipe', 'recipe_not_allowed', `tenant "${b.tenant}" may not run ${target} (allowed: ${describeAllow(grant)})`,
        `Use an allowed recipe, or ask a person to add "${req.recipe}" to ${grantPath}.allow.`);
    case 'grant_expired':
      return deny('recipe', 'grant_expired', `tenant "${b.tenant}"'s access to ${target} ended at ${refusal.until}`,
        `Stop: this access was temporary. Ask a person to renew it in ${grantPath}.allow if it is still needed.`);
    case 'risk_not_allowed':
      gates.push({ name: 'recipe', status: 'pass', detail: `${target} allowed (allow: [${describeAllow(grant)}])` });
      return deny('risk', 'risk_not_allowed', `${target} is a ${recipe.risk} recipe, above the ${refusal.maxRisk} ceiling of tenant "${b.tenant}"'s grant`,
        `Use a ${refusal.maxRisk} recipe, or ask a person to raise ${grantPath}.maxRisk.`);
  }
  pass('recipe', `${target} allowed (allow: [${describeAllow(grant)}])`);
  pass('risk', `${recipe.risk}${grant.maxRisk ? ` (ceiling ${grant.maxRisk})` : ''}`);

  const unbound = recipe.secrets.filter((s) => !Object.hasOwn(grant.secrets, s));
  if (unbound.length) {
    return deny('secrets', 'secret_not_bound', `${target} needs ${unbound.join(', ')}, which tenant "${b.tenant}" does not bind to a reference`,
      `Ask a person to add tenants.${b.tenant}.services.${req.service}.secrets.${unbound[0]}: <reference> to ${ctx.configFile}.`);
  }
  const secretRefs = Object.fromEntries(recipe.secrets.map((s) => [s, grant.secrets[s]!]));
  const asPlaceholder = grant.placeholder && recipe.secrets.length > 0;
  pass('secrets', recipe.secrets.length ? recipe.secrets.map((s) => `${s} -> ${secretRefs[s]}${asPlaceholder ? ' (as a placeholder)' : ''}`).join(', ') : 'none needed');

  const params = validateParams(recipe.params, req.params);
  if (!params.ok) {
    return deny('params', 'bad_param', params.failure.message,
      `Fix the value and retry; \`outloop recipes show ${req.service}\` lists each parameter's rules.`, params.failure.param);
  }
  const limited = paramLimitFailure(grant.params, recipe.params, params.values);
  if (limited) {
    return deny('params', 'param_not_allowed', `${limited.message}: a limit of tenant "${b.tenant}"'s grant (${grantPath}.params.${limited.param})`,
      `Use a value within the grant's limit; a person can change ${grantPath}.params in ${ctx.configFile}.`, limited.param);
  }
  const preview = renderRecipe(recipe, { params: params.values, secret: secretMarker, tenant: b.tenant, project: b.project });
  const optionLike = optionInjection(selectedRun(recipe, params.values), preview.argv);
  if (optionLike) {
    return deny('params', 'bad_param',
      `parameter "${optionLike}" starts with "-" where it forms a whole argument, so the command would read it as an option`,
      'Pass a value that does not start with "-".', optionLike);
  }
  pass('params', Object.entries(params.values).map(([k, v]) => `${k}=${v}`).join(' ') || 'none');

  // A request body file (recipe.bodyFiles: curl only sends it, see lint) is data for the gated URL, not a target.
  const texts = [...preview.argv, ...Object.values(preview.env), preview.stdin ?? '', ...Object.entries(preview.files).filter(([f]) => !recipe.bodyFiles?.includes(f)).map(([, t]) => t)];
  const urls = texts.flatMap(findUrls);
  for (const url of urls) {
    const v = checkUrl(url, recipe.hosts);
    if (v) {
      return deny('hosts', 'host_not_allowed', `${target} would call ${v.url}, which ${v.why} (allowed: ${recipe.hosts.join(', ') || 'none'})`,
        'Use parameters that keep the request on the service\'s own hosts; a person can add a host to the recipe file\'s hosts list.');
    }
  }
  // The allow-list on the wire: a request that must be sandboxed is refused here when it cannot be.
  const box = sandboxMode(ctx.tenants[b.tenant], grant);
  const boxed = sandboxVerdict(box, ctx.sandboxAvailable, grant.sandbox ? `${grantPath}.sandbox` : `tenants.${b.tenant}.sandbox`);
  if (!boxed.ok) return deny('hosts', 'sandbox_unavailable', boxed.reason, boxed.next);
  pass('hosts', `${urls.length ? [...new Set(urls.map((u) => safeHost(u)))].join(', ') : 'no URLs in the command'}; ${boxed.detail}`);

  let approval: Plan['approval'];
  if (needsApproval(grant, recipe)) {
    const key = approvalKey(b.tenant, req.service, req.recipe, params.values, recipe.fileSha256);
    const verdict = approvalVerdict(ctx.approvals?.[key], now);
    const shown = `${target} for tenant "${b.tenant}"${Object.keys(params.values).length ? ` with ${Object.entries(params.values).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;
    if (verdict.kind === 'denied') {
      return deny('approval', 'approval_denied', `a person refused ${shown} (approval ${verdict.id})`,
        'Do not retry or work around it; ask the person why if the task needs it.');
    }
    if (verdict.kind === 'required') {
      const request: ApprovalRequest = {
        key, tenant: b.tenant, service: req.service, recipe: req.recipe, risk: recipe.risk, params: params.values,
        recipeSha256: recipe.fileSha256, ttlMs: approvalTtlMs(grant), reasonRequired: grant.approvalReason === 'required',
        ...(verdict.pendingId ? { pendingId: verdict.pendingId } : {}),
      };
      return deny('approval', 'approval_required', `${shown} needs a person's approval (${grantPath}.approve)`,
        'Ask a person to run `outloop approve ID` with the approval id, then re-run this exact command.', undefined, request);
    }
    approval = { id: verdict.id, key };
    pass('approval', `approved (${verdict.id})`);
  } else {
    pass('approval', 'none needed');
  }

  const budgets = budgetsFor(b.tenant, ctx.tenants[b.tenant]?.rate, req.service, grant, req.recipe);
  const spent = budgetRefusal(budgets, ctx.usage ?? {}, now);
  if (spent) {
    const wait = Math.max(1, Math.ceil((spent.retryAt - now) / 1000));
    return deny('budget', 'budget_exhausted', `the budget ${spent.budget.label} is spent`,
      `Retry after ${new Date(spent.retryAt).toISOString()} (in ${wait} s), or ask a person to raise the rate in ${ctx.configFile}.`);
  }
  pass('budget', budgets.length ? budgets.map((x) => `${x.label} (${countIn(ctx.usage, x, now)} used)`).join('; ') : 'no budget applies');

  const output = effectiveContract(recipe.output, grant.output?.['*'], grant.output?.[req.recipe]);
  return {
    allow: true,
    gates,
    plan: { tenant: b.tenant, project: b.project, service: req.service, recipe, params: params.values, secretRefs, preview, budgets, ...(approval ? { approval } : {}),
      ...(output ? { output } : {}), ...(grant.record ? { record: true } : {}), ...(asPlaceholder ? { placeholders: [...recipe.secrets] } : {}),
      sandbox: { mode: box, available: ctx.sandboxAvailable === true } },
  };
}

/**
 * An argument that starts with "-" only because of what a parameter put there would become a flag it was
 * not written as (`{{params.a}}{{params.b}}` with a empty and b = --evil, too). Names the first
 * parameter of such an argument.
 */
function optionInjection(run: LoadedRecipe['run'], argv: string[]): string | undefined {
  for (let i = 1; i < run.length; i++) {
    const t = run[i]!;
    if (!argv[i]!.startsWith('-') || leadingText(t).startsWith('-')) continue;
    const param = t.tokens.find((tok) => 'ref' in tok && tok.ref.ns === 'params');
    if (param && 'ref' in param && param.ref.ns === 'params') return param.ref.name;
  }
  return undefined;
}

function leadingText(t: LoadedRecipe['run'][number]): string {
  let text = '';
  for (const tok of t.tokens) {
    if (!('text' in tok)) break;
    text += tok.text;
  }
  return text;
}

function countIn(usage: Usage | undefined, b: Budget, now: number): number {
  return (usage?.[b.key] ?? []).filter((t) => t > now - b.windowMs).length;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
