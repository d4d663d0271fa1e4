import { z } from 'zod';
import { parsePath } from './path.js';
import { MASK_STRATEGIES } from './contract.js';
import { PII_KINDS } from './pii.js';

/**
 * The `output:` key of a recipe and of a grant's `output.<recipe>:`, one zod schema for both (the JSON
 * Schemas for editors are generated from it). Paths are checked here, so a contract that loads is one
 * the shaper can apply.
 */
const path = z
  .string()
  .check((ctx) => {
    const p = parsePath(ctx.value);
    if (typeof p === 'string') ctx.issues.push({ code: 'custom', input: ctx.value, message: `bad output path ${p}` });
  })
  .describe('A JSON path: $.total_count, data[*].id, data[0].customer.email, metadata.*, ["odd key"]');
const strategy = z.enum(MASK_STRATEGIES).describe('redact: [MASKED]; partial: the last 4 characters; hash: a stable HMAC fingerprint');
const kind = z.enum(PII_KINDS);

export const OutputSpecSchema = z
  .strictObject({
    format: z.enum(['json', 'text']).optional().describe('json (the default in a recipe): the output must be one JSON document; text: only pii and maxBytes apply'),
    pick: z.array(path).min(1).optional().describe('The only JSON paths that reach the agent; everything else is dropped.'),
    mask: z.record(z.string(), strategy).optional().describe('JSON path -> redact | partial | hash.'),
    pii: z
      .union([z.array(kind).min(1), z.partialRecord(kind, strategy)])
      .optional()
      .describe('Personal data masked wherever it appears in a string: [email, phone, card, iban] (redact), or { email: hash }.'),
    maxBytes: z.number().int().positive().optional().describe('More output than this stops the child and is an error (output_too_large).'),
  })
  .check((ctx) => {
    const v = ctx.value;
    for (const p of Object.keys(v.mask ?? {})) {
      const bad = parsePath(p);
      if (typeof bad === 'string') ctx.issues.push({ code: 'custom', input: p, path: ['mask', p], message: `bad output path ${bad}` });
    }
    if (v.format === 'text' && (v.pick || v.mask)) {
      ctx.issues.push({ code: 'custom', input: v, path: ['format'], message: 'pick and mask need format: json (text output has no fields to pick)' });
    }
  })
  .describe('Output contract: which parts of the output reach the agent.');

export const GrantOutputSchema = z
  .record(z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]*)$/, 'a recipe name, or "*" for every recipe of the service'), OutputSpecSchema)
  .describe('Tighten recipes\' output contracts for this tenant: { list-invoices: { mask: { "data[*].email": hash } }, "*": { pii: [email] } }. Only ever tighter: picks intersect, masks and pii add up, maxBytes takes the smaller.');
