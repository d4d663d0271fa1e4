/**
 * One secret-shape rule as written in rules.yaml or in config.yaml's `redact.rules`. Field meanings are
 * documented at the top of rules.yaml and in the README ("Secret-shape rules").
 */
export interface ShapeRule {
  id: string;
  description?: string;
  /**
   * Literal anchors: the pattern runs only in a window around one of them. One leading character class
   * is allowed (`[a-z]key`): it stands for one keyword per member.
   */
  keywords: string[];
  /** JavaScript regex source; the named group `secret`, when present, is the part masked. */
  pattern: string;
  ignoreCase?: boolean;
  /** Minimum Shannon entropy (bits per character) of the secret part. */
  entropy?: number;
  minLength?: number;
  /** Minimum number of character classes (lower, upper, digit, other) in the secret part. */
  classes?: number;
  /** The window crosses newlines (PEM blocks). */
  multiline?: boolean;
  /**
   * `word`: the match must start where the word holding the keyword starts (letters, digits and _ . + -,
   * at most `before` bytes back); the regex is tried once there instead of at every offset of the window.
   * For assignment rules, whose name ends in the keyword, this is what makes them cheap.
   */
  anchor?: 'word';
  /**
   * The keyword ends a name (`API_KEY=`, `"auth_token":`): a hit followed by a letter, digit, _, . or -
   * (after an optional `s` and up to two digits) is dropped before any regex runs (`Author:`, `keyboard`).
   */
  endsName?: boolean;
  /**
   * A byte that must follow the keyword, before any of the `stop` bytes and within `within` bytes
   * (default 300); checked on bytes before the regex runs. E.g. `@` after `://` for URL userinfo.
   */
  needs?: { byte: string; stop?: string; within?: number };
  /** Window bytes before the keyword (default 1) and after its end (default 300). */
  before?: number;
  after?: number;
  /** A secret part matching any of these is not a finding. */
  exclude?: string[];
  /** A match of the named group `name` against any of these drops the finding (e.g. public_key). */
  excludeName?: string[];
}

export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const MAX_WINDOW = 65536;

/** Why a rule cannot be used, or undefined: the one check behind config validation and compileShapes. */
export function ruleProblem(rule: ShapeRule): string | undefined {
  if (!RULE_ID_PATTERN.test(rule.id)) return `rule id "${rule.id}" must use lowercase letters, digits and "-"`;
  if (!rule.keywords.length) return `rule ${rule.id}: needs at least one keyword`;
  for (const k of rule.keywords) {
    const literal = k.replace(/^\[[^\]]+\]/s, 'x');
    if (Buffer.byteLength(literal) < 2) return `rule ${rule.id}: keyword "${k}" is shorter than 2 bytes`;
  }
  const flags = rule.ignoreCase ? 'i' : '';
  for (const [what, sources] of [
    ['pattern', [rule.pattern]],
    ['exclude', rule.exclude ?? []],
    ['excludeName', rule.excludeName ?? []],
  ] as const) {
    for (const src of sources) {
      let re: RegExp;
      try {
        re = new RegExp(src, flags);
      } catch (err) {
        return `rule ${rule.id}: ${what} is not a valid regular expression: ${(err as Error).message}`;
      }
      // A pattern that matches nothing-at-all would mask empty spans everywhere (or loop).
      if (what === 'pattern' && re.test('')) return `rule ${rule.id}: pattern matches the empty string`;
    }
  }
  if (rule.needs && Buffer.byteLength(rule.needs.byte) !== 1) return `rule ${rule.id}: needs.byte must be one byte`;
  for (const n of [rule.before, rule.after]) {
    if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > MAX_WINDOW)) return `rule ${rule.id}: before/after must be whole numbers from 0 to ${MAX_WINDOW}`;
  }
  return undefined;
}
