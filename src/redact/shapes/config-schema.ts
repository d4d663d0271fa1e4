import { z } from 'zod';
import { RULE_ID_PATTERN, ruleProblem, type ShapeRule } from './rule.js';

/**
 * config.yaml's `redact:` key: secret-shape rules of your own, and packaged rules to turn off. Each rule
 * is checked when the config loads (its regexes compiled), so a bad pattern is a config error at its
 * file:line, never a surprise in the middle of a command's output.
 */
export const ShapeRuleSchema = z
  .strictObject({
    id: z.string().regex(RULE_ID_PATTERN, 'rule ids use lowercase letters, digits and "-"').describe('Replacement text is [REDACTED:<id>]. A packaged id replaces that rule.'),
    description: z.string().optional(),
    keywords: z
      .array(z.string().min(1))
      .min(1)
      .describe('Literal anchors (4+ bytes is fastest); the pattern runs only around them. Case-sensitive unless ignoreCase.'),
    pattern: z.string().min(1).describe('JavaScript regular expression; a named group (?<secret>...) marks the part masked.'),
    ignoreCase: z.boolean().optional(),
    entropy: z.number().min(0).max(8).optional().describe('Minimum Shannon entropy (bits/char) of the secret part.'),
    minLength: z.number().int().positive().optional(),
    classes: z.number().int().min(1).max(4).optional().describe('Minimum character classes (lower, upper, digit, other) in the secret part.'),
    multiline: z.boolean().optional(),
    anchor: z.literal('word').optional(),
    endsName: z.boolean().optional(),
    needs: z.strictObject({ byte: z.string().length(1), stop: z.string().optional(), within: z.number().int().positive().optional() }).optional(),
    before: z.number().int().min(0).max(65536).optional(),
    after: z.number().int().min(0).max(65536).optional(),
    exclude: z.array(z.string()).optional(),
    excludeName: z.array(z.string()).optional(),
  })
  .check((ctx) => {
    const problem = ruleProblem(ctx.value as ShapeRule);
    if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem, path: ['pattern'] });
  });

export const RedactConfigSchema = z
  .strictObject({
    rules: z.array(ShapeRuleSchema).default([]).describe('Secret-shape rules added to the packaged set.'),
    disable: z.array(z.string().regex(RULE_ID_PATTERN)).default([]).describe('Packaged rule ids to turn off, e.g. [twilio-account-sid].'),
  })
  .describe('Secret-shape redaction: output that looks like a credential is masked even when outloop did not inject it.');

export type RedactConfig = z.infer<typeof RedactConfigSchema>;
