import { z } from 'zod';
import { NAME_PATTERN, SECRET_NAME_PATTERN } from '../config/schema.js';
import { OutputSpecSchema } from '../output/schema.js';

/**
 * The shape of a recipe file: one YAML file per service, named after it (stripe.yaml holds
 * `service: stripe`). Strict, like config.yaml: an unknown key is an error rather than a silent no-op.
 */
export const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/;

/** Where a placeholder may be replaced by its value on the wire. */
export const SURFACES = ['header', 'basic', 'query', 'body'] as const;
export type Surface = (typeof SURFACES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);
// `run: [sleep, 5]` and `env: { PORT: 8080 }` mean the text "5" and "8080"; YAML just typed them.
const text = z.union([z.string(), z.number().transform(String)]);

export const ParamSchema = z
  .strictObject({
    type: z.enum(['string', 'integer', 'number', 'boolean', 'enum']).default('string'),
    description: z.string().optional(),
    required: z.boolean().optional().describe('Defaults to true unless the parameter has a default.'),
    default: scalar.optional(),
    pattern: z.string().optional().describe('A regular expression the WHOLE value must match (it is anchored for you).'),
    enum: z.array(z.union([z.string(), z.number()])).min(1).optional().describe('The allowed values.'),
    min: z.number().optional().describe('Smallest allowed value (integer, number).'),
    max: z.number().optional().describe('Largest allowed value (integer, number).'),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().positive().optional(),
  })
  .describe('A typed parameter, validated before anything runs.');

export const RecipeSchema = z
  .strictObject({
    description: z.string().min(1),
    risk: z.enum(['read', 'write', 'admin']).default('write').describe('Unset risk counts as write.'),
    params: z.record(z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'parameter names start with a lowercase letter'), ParamSchema).default({}),
    run: z
      .array(
        z.union([
          text,
          z
            .array(text)
            .min(1)
            .describe(
              'An optional group: its elements take part only when every parameter they reference has a value (given or defaulted), e.g. [--data-urlencode, "customer={{params.customer}}"]. It must reference an optional parameter; groups do not nest.',
            ),
        ]),
      )
      .min(1)
      .describe(
        'The argv to run, never a shell line. Each element stays one argument whatever a placeholder expands to. Placeholders: {{params.NAME}}, {{tenant}}, {{project}}, {{recipe.dir}}, each optionally with an escaping filter: | json (a JSON string literal, quotes included; null when unset) or | url (percent-encoded). Never {{secrets.NAME}}.',
      ),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), text)
      .default({})
      .describe('Environment variables for the child. An entry is set only when every parameter it references has a value.'),
    stdin: z
      .string()
      .optional()
      .describe('Text written to the child on stdin (e.g. a curl config with the Authorization header). A free-text string parameter here must use {{params.NAME | json}}.'),
    files: z
      .record(z.string().regex(/^(?!\.\.?$)[A-Za-z0-9._-]+$/, 'file names are plain names inside the run folder'), z.string())
      .default({})
      .describe('Files written (mode 0600) into the private working directory before the child starts, removed after (e.g. a JSON body for curl --json @body.json). A free-text string parameter here must use {{params.NAME | json}} or {{params.NAME | url}}.'),
    timeout: z.union([z.string(), z.number()]).optional().describe('e.g. 30s, 5m (default 60s).'),
    output: OutputSpecSchema.optional().describe('Output contract (format: json by default): pick, mask, pii, maxBytes.'),
    scopes: z
      .array(z.string().min(1))
      .optional()
      .describe('The least the bound key must be allowed for this action, in the vendor\'s own terms (e.g. "Invoices: read"). Shown in the catalogue.'),
    pty: z.boolean().optional().describe('Run under a pseudo-terminal (one merged, redacted output stream); stdin text is typed into it.'),
    maxOutput: z.union([z.string(), z.number()]).optional().describe('Stop the child once it has written this much (stdout and stderr together), e.g. 1MiB (default 10MiB); the output is marked truncated.'),
    maxMemory: z.union([z.string(), z.number()]).optional().describe('Address-space limit of the child (RLIMIT_AS), e.g. 512MiB, where the platform allows.'),
    sandbox: z
      .strictObject({
        paths: z
          .array(
            z.strictObject({
              path: z.string().min(1).describe('An absolute path; may use {{project}}, {{tenant}}, {{recipe.dir}}.'),
              mode: z.enum(['ro', 'rw']).default('ro'),
            }),
          )
          .default([])
          .describe('Folders the sandboxed child may see (read-only unless rw); everything else outside the system is hidden.'),
      })
      .optional()
      .describe('What the sandbox shows the child beyond the system and its private folder.'),
  })
  .describe('One approved action.');

export const RecipeFileSchema = z
  .strictObject({
    service: z.string().regex(NAME_PATTERN, 'service names use lowercase letters, digits, "-" and "_"'),
    description: z.string().optional(),
    hosts: z
      .array(z.string().regex(HOST_PATTERN, 'a host is a name like api.example.com, a wildcard *.example.com, optionally :port'))
      .default([])
      .describe('The only hosts the recipes of this service may reach.'),
    secrets: z.array(z.string().regex(SECRET_NAME_PATTERN, 'secret names are UPPER_SNAKE_CASE')).default([]),
    credential: z
      .string()
      .min(1)
      .optional()
      .describe('What kind of key to bind to the secrets, e.g. "Stripe restricted key (rk_...)". Shown in the catalogue with each recipe\'s scopes.'),
    sign: z
      .enum(['aws-sigv4'])
      .optional()
      .describe('Placeholder runs re-sign each request to the hosts with the real keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN); the child signs with placeholders.'),
    placeholders: z
      .record(
        z.string().regex(SECRET_NAME_PATTERN, 'secret names are UPPER_SNAKE_CASE'),
        z.strictObject({
          substitute: z
            .array(z.enum(SURFACES))
            .min(1)
            .default(['header', 'basic'])
            .describe('Where the proxy may replace this secret\'s placeholder on requests to the hosts: header (any header, Bearer included), basic (inside Authorization: Basic), query (the URL), body (a form or JSON body). Default: header, basic.'),
        }),
      )
      .default({})
      .describe('How each secret travels when a grant says placeholder: true.'),
    recipes: z.record(z.string().regex(NAME_PATTERN, 'recipe names use lowercase letters, digits, "-" and "_"'), RecipeSchema),
  })
  .describe('An Outloop recipe file: the approved actions of one service.');

export type ParamSpec = z.infer<typeof ParamSchema>;
export type RecipeDef = z.infer<typeof RecipeSchema>;
export type RecipeFile = z.infer<typeof RecipeFileSchema>;
