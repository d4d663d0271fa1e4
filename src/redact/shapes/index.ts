/**
 * Secret shapes: secrets nobody injected (a key the child read from a file, a token in an API reply),
 * found by a keyword-gated rule set. The packaged rules live in rules.yaml (compiled at build time into
 * rules.generated.ts); config.yaml's `redact: { rules, disable }` adds and removes rules.
 */
import { InternalError } from '../../errors.js';
import { compileShapes, findShapes, renderShapes, type ShapeSet } from './compile.js';
import { ruleProblem } from './rule.js';
import type { ShapeRule } from './rule.js';
import { builtinIndexData, builtinRuleData } from './rules.generated.js';

export type { ShapeRule } from './rule.js';
export { ruleProblem } from './rule.js';
export { compileShapes, exportIndex, findShapes, renderShapes, type ShapeFinding, type ShapeIndex, type ShapeSet } from './compile.js';
export { ShapeStream } from './stream.js';
export { shannonEntropy } from './entropy.js';

/** The packaged rule set (a fresh copy: callers may filter or extend it). */
export function builtinShapeRules(): ShapeRule[] {
  return builtinRuleData().map((r) => ({ ...r, keywords: [...r.keywords] }));
}

export interface RedactShapesConfig {
  rules?: ShapeRule[];
  disable?: string[];
}

/**
 * The rule set for a config's `redact` key: the packaged rules minus `disable`, plus the user's rules
 * (a user rule with a packaged rule's id replaces it).
 */
export function shapeRulesFor(config: RedactShapesConfig | undefined): ShapeRule[] {
  const user = config?.rules ?? [];
  const drop = new Set([...(config?.disable ?? []), ...user.map((r) => r.id)]);
  return [...builtinShapeRules().filter((r) => !drop.has(r.id)), ...user];
}

let builtin: ShapeSet | undefined;
/** The packaged rules, compiled once per process. */
export function builtinShapes(): ShapeSet {
  return (builtin ??= compileShapes(builtinRuleData(), true, builtinIndexData()));
}

export function shapesFor(config: RedactShapesConfig | undefined): ShapeSet {
  return shapesLater(config)();
}

/** shapesFor, with the user's rules checked now and the set compiled when the function is first called. */
export function shapesLater(config: RedactShapesConfig | undefined): () => ShapeSet {
  if (!config || (!config.rules?.length && !config.disable?.length)) return builtinShapes;
  // Only the user's rules need validating; config loading has already done so, this is the backstop.
  for (const r of config.rules ?? []) {
    const problem = ruleProblem(r);
    if (problem) throw new InternalError(`secret-shape ${problem}`);
  }
  let set: ShapeSet | undefined;
  return () => (set ??= compileShapes(shapeRulesFor(config), true));
}

/**
 * The id of the first rule that finds a secret in `value`, or undefined: for flagging environment
 * variables and config values (doctor, `outloop run`). Never returns any part of the value.
 */
export function looksLikeSecret(value: string, set: ShapeSet = builtinShapes()): string | undefined {
  // A value holding a private key's BEGIN line is one, however little of the key follows (the output
  // rule wants a body, so that a log line quoting the marker is not masked).
  if (PEM_BEGIN.test(value)) return 'private-key';
  return findShapes(set, Buffer.from(value, 'utf8'))[0]?.ruleId;
}

const PEM_BEGIN = /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/;

/** What a rule finds, as a phrase for messages ("a GitHub token (personal access token)"). */
export function describeShape(ruleId: string): string {
  const rule = builtinRuleData().find((r) => r.id === ruleId);
  return rule?.description ?? `a secret (${ruleId})`;
}

/** Redact a whole string with the shape rules alone. */
export function redactShapes(text: string, set: ShapeSet = builtinShapes()): { text: string; count: number } {
  const buf = Buffer.from(text, 'utf8');
  const findings = findShapes(set, buf);
  return { text: findings.length ? renderShapes(buf, findings).toString('utf8') : text, count: findings.length };
}
