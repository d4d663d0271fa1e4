import { z } from 'zod';
import { refProblem } from '../secrets/ref.js';

/**
 * The shape of config.yaml. Strict everywhere: a key outloop does not enforce (a typo, or a guardrail
 * from a later version) is an error, never silently ignored, because a person who writes `maxRisk: read`
 * must not believe it is enforced when it is not. The JSON Schema shipped for editors is generated from
 * this same object (scripts/gen-schema.mjs), so the two cannot drift.
 */
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

export const ServiceGrantSchema = z
  .strictObject({
    secrets: z
      .record(z.string().regex(SECRET_NAME_PATTERN, 'secret names are UPPER_SNAKE_CASE'), secretRef)
      .default({})
      .describe('Logical secret name (as the recipes use it) -> secret reference.'),
    allow: z
      .array(z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]*)$/, 'a recipe name, or "*" for every recipe of the service'))
      .default([])
      .describe('Recipes this tenant may run, or ["*"].'),
    run: z.boolean().default(false).describe('May `outloop run` wrap arbitrary commands with these secrets?'),
  })
  .describe('What one tenant may do with one service.');

export const TenantSchema = z.strictObject({
  projects: z
    .array(z.string().min(1))
    .default([])
    .describe('Directories bound to this tenant, with everything below them. `~` is your home folder.'),
  services: z.record(name('service'), ServiceGrantSchema).default({}),
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
  })
  .describe('Outloop configuration: tenants, the projects bound to them, and their grants.');

export type Config = z.infer<typeof ConfigSchema>;
export type TenantConfig = z.infer<typeof TenantSchema>;
export type ServiceGrant = z.infer<typeof ServiceGrantSchema>;
