import { z } from 'zod';
import { patternProblem } from '../recipe/pattern.js';
import { refProblem } from '../secrets/ref.js';
import { RedactConfigSchema } from '../redact/shapes/config-schema.js';
import { parseDuration } from '../util/duration.js';
import { GrantOutputSchema } from '../output/schema.js';

/**
 * The shape of config.yaml. Strict everywhere: a key outloop does not enforce (a typo, or a guardrail
 * from a later version) is an error, never silently ignored, because a person who writes `maxRisk: read`
 * must not believe it is enforced when it is not. The JSON Schema shipped for editors is generated from
 * this same object (scripts/gen-schema.mjs), so the two cannot drift.
 */
/** Why a grant's baseUrl is not acceptable, or undefined. Plain http would send the credential in clear. */
export function baseUrlProblem(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'not a URL';
  }
  if (u.search || u.hash || u.username || u.password || !u.hostname) return 'no query, fragment or user part';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname)) return undefined;
  return 'https only (http for loopback)';
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} names use lowercase letters, digits, "-" and "_"`);

const secretRef = z
  .string()
  .min(1)
  .check((ctx) => {
    const problem = refProblem(ctx.value);
    if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
  })
  .describe('Where the value lives, e.g. local:acme/stripe or op://Vault/Item/field. Never the value itself.');

// An instant with its zone, so a grant ends at the same moment wherever outloop runs.
const instant = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'a time with its zone, e.g. 2026-12-01T00:00:00Z',
  });
const recipeName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a recipe name');
// A budget: calls allowed per window, counted across every process on the machine.
export const RATE_PATTERN = /^([1-9]\d{0,6})\/(min|h|day)$/;
const rate = z.string().regex(RATE_PATTERN, 'a budget like 60/h (calls per /min, /h or /day)');

// required: deny when no sandbox is available; auto: sandbox when available, else the egress proxy is only
// advisory; off: neither (said so in the audit record).
const sandboxMode = z.enum(['required', 'auto', 'off']);

/** Rules a grant adds on top of a recipe's own parameter rules: they can only narrow. */
export const ParamLimitSchema = z.strictObject({
  min: z.number().optional(),
  max: z.number().optional(),
  minLength: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().positive().optional(),
  enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  pattern: z
    .string()
    .superRefine((p, ctx) => {
      const problem = patternProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('Must match the whole value, in addition to the recipe\'s own pattern.'),
});

export const ServiceGrantSchema = z
  .strictObject({
    secrets: z
      .record(z.string().regex(SECRET_NAME_PATTERN, 'secret names are UPPER_SNAKE_CASE'), secretRef)
      .default({})
      .describe('Logical secret name (as the recipes use it) -> secret reference.'),
    allow: z
      .array(
        z.union([
          z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]*)$/, 'a recipe name, or "*" for every recipe of the service'),
          z.strictObject({
            recipe: recipeName,
            until: instant.optional().describe('This one recipe stops being allowed at this time.'),
            rate: rate.optional().describe('A budget for this one recipe.'),
          }),
        ]),
      )
      .default([])
      .describe('Recipes this tenant may run, or ["*"]; { recipe, until } for temporary access to one.'),
    deny: z
      .record(z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]*)$/, 'a recipe name, or "*"'), z.string().min(1))
      .default({})
      .describe('Recipes never allowed here, each with the reason the agent is shown. Wins over allow.'),
    maxRisk: z.enum(['read', 'write', 'admin']).optional().describe('Recipes above this risk are denied.'),
    params: z
      .record(z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'a parameter name'), ParamLimitSchema)
      .default({})
      .describe("Narrow a recipe's own parameter rules for this tenant, e.g. { amount: { max: 100 } }."),
    until: instant.optional().describe('The whole grant ends by itself at this time.'),
    rate: rate.optional().describe('A budget for every recipe of this service, e.g. 60/h.'),
    run: z.boolean().default(false).describe('May `outloop run` wrap arbitrary commands with these secrets?'),
    shared: z
      .boolean()
      .default(false)
      .describe("May this grant bind a secret reference that names another tenant (local:globex/... under acme)? Off: that is an error."),
    approve: z
      .union([
        z.array(recipeName),
        z.strictObject({ risk: z.enum(['read', 'write', 'admin']).describe('Every recipe at or above this risk waits for a person.') }),
      ])
      .optional()
      .describe('Recipes that wait for a person\'s approval (`outloop approve ID`): a list of names, or { risk: write }.'),
    approvalTtl: z
      .string()
      .refine((s) => parseDuration(s) !== undefined, { message: 'a duration like 15m, 30s or 1h' })
      .optional()
      .describe('How long an approval stays usable, once (default 15m).'),
    approvalReason: z
      .enum(['optional', 'required'])
      .default('optional')
      .describe('Must the person who approves or denies give a --reason?'),
    output: GrantOutputSchema.optional(),
    record: z.boolean().default(false).describe('Keep an asciicast recording of each run\'s redacted, shaped output (outloop replay ID).'),
    baseUrl: z
      .string()
      .refine((s) => baseUrlProblem(s) === undefined, { message: 'an https URL with a host and no query, e.g. https://gitlab.example.internal (http only for 127.0.0.1, ::1 or localhost)' })
      .optional()
      .describe('Aim this service\'s recipes at another server (a self-managed GitLab, GitHub Enterprise, a local fake): its first host\'s https origin is replaced by this URL, and this grant alone may reach its host.'),
    placeholder: z
      .boolean()
      .default(false)
      .describe('Give children a per-run placeholder instead of each secret value; the egress proxy puts the real value in only on requests to the service\'s own hosts (needs the service\'s recipe file for its hosts).'),
    sandbox: sandboxMode.optional().describe('Run this service\'s children in a sandbox whose only way out is the egress proxy: required, auto (when available), off. Wins over the tenant\'s.'),
  })
  .describe('What one tenant may do with one service.');

export const TenantSchema = z.strictObject({
  projects: z
    .array(z.string().min(1))
    .default([])
    .describe('Directories bound to this tenant, with everything below them. `~` is your home folder.'),
  services: z.record(name('service'), ServiceGrantSchema).default({}),
  rate: rate.optional().describe("A budget for all of this tenant's requests, e.g. 600/day."),
  sandbox: sandboxMode.optional().describe('Default sandbox mode of this tenant\'s services: required, auto (default), off.'),
  users: z
    .array(z.union([z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'an OS user name'), z.number().int().nonnegative()]))
    .default([])
    .describe('System mode: the OS users (names or uids) whose requests are bound to this tenant, whatever folder they name: from another tenant\'s project they are denied wrong_tenant. A user belongs to one tenant. Personal mode has one user and ignores this.'),
});

export const ConfigSchema = z
  .strictObject({
    tenants: z.record(name('tenant'), TenantSchema).default({}),
    recipePaths: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra folders of recipe files (one YAML file per service). Relative paths are relative to config.yaml.'),
    storeKey: z
      .enum(['auto', 'keychain', 'file'])
      .default('auto')
      .describe('Where the key of the local store lives: the OS keychain when one answers (auto), or forced.'),
    recordRetention: z
      .string()
      .refine((s) => parseDuration(s) !== undefined, { message: 'a duration like 30d or 12h' })
      .default('30d')
      .describe('Recordings older than this are deleted on each recorded run.'),
    redact: RedactConfigSchema.optional(),
  })
  .describe('Outloop configuration: tenants, the projects bound to them, and their grants.');

export type Config = z.infer<typeof ConfigSchema>;
export type TenantConfig = z.infer<typeof TenantSchema>;
export type ServiceGrant = z.infer<typeof ServiceGrantSchema>;
export type ParamLimit = z.infer<typeof ParamLimitSchema>;
