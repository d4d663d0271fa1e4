/**
 * Finding secret shapes in bytes without running every regex over every byte (that runs below 1 MB/s).
 *
 * 1. One pass over the buffer looks up each byte pair (case-folded) in a 64K table of keyword prefixes;
 *    a hit is confirmed by comparing the keyword's remaining bytes (exactly, or folded for ignoreCase
 *    rules). Most bytes cost one table read.
 * 2. A confirmed keyword opens a window for each of its rules: `before` bytes back and `after` bytes past
 *    the keyword, clipped to the keyword's line unless the rule is multiline. Overlapping windows of one
 *    rule are merged, so a rule runs at most once over any byte.
 * 3. The rule's regex runs on the window (decoded as latin1, so string offsets are byte offsets), and each
 *    match is checked: entropy, length, character classes, excludes, and the universal template filter.
 * 4. Findings are sorted and overlapping ones merged (first rule's id), so nothing is left half-masked.
 *
 * Because windows of non-multiline rules never cross a newline, the findings in a buffer are the union of
 * the findings in its lines: ShapeStream relies on that to cut only at line ends.
 */
import { InternalError } from '../../errors.js';
import { charClasses, shannonEntropy } from './entropy.js';
import { ruleProblem, type ShapeRule } from './rule.js';

export interface ShapeFinding {
  start: number;
  end: number;
  ruleId: string;
}

interface CompiledRule {
  id: string;
  re: RegExp;
  hasSecret: boolean;
  before: number;
  after: number;
  multiline: boolean;
  entropy: number;
  minLength: number;
  classes: number;
  exclude: RegExp[];
  excludeName: RegExp[];
}

interface KeywordEntry {
  /** Folded bytes, for the first comparison. */
  folded: Uint8Array;
  /** Exact bytes when the keyword is case-sensitive; null when folded equality is enough. */
  exact: Uint8Array | null;
  rules: number[];
}

export interface ShapeSet {
  readonly rules: readonly CompiledRule[];
  /** Byte pair (folded) -> 1 + index into groups; 0 when no keyword starts with that pair. */
  readonly pairs: Uint16Array;
  readonly groups: readonly KeywordEntry[][];
  readonly ids: readonly string[];
  /** Longest window a multiline rule can need: the stream's cap for holding an open block. */
  readonly maxMultiline: number;
}

const FOLD = new Uint8Array(256);
for (let i = 0; i < 256; i++) FOLD[i] = i >= 65 && i <= 90 ? i + 32 : i;

export function compileShapes(rules: readonly ShapeRule[]): ShapeSet {
  const compiled: CompiledRule[] = [];
  const entries = new Map<string, KeywordEntry>();
  const seen = new Set<string>();
  let maxMultiline = 0;
  for (const rule of rules) {
    const problem = ruleProblem(rule);
    if (problem) throw new InternalError(`secret-shape ${problem}`);
    if (seen.has(rule.id)) throw new InternalError(`secret-shape rule ${rule.id} is defined twice`);
    seen.add(rule.id);
    const hasSecret = rule.pattern.includes('(?<secret>');
    const flags = `g${rule.ignoreCase ? 'i' : ''}${hasSecret ? 'd' : ''}`;
    const index = compiled.length;
    const multiline = rule.multiline ?? false;
    const after = rule.after ?? 300;
    if (multiline) maxMultiline = Math.max(maxMultiline, after);
    compiled.push({
      id: rule.id,
      re: new RegExp(rule.pattern, flags),
      hasSecret,
      before: rule.before ?? 1,
      after,
      multiline,
      entropy: rule.entropy ?? 0,
      minLength: rule.minLength ?? 1,
      classes: rule.classes ?? 0,
      exclude: (rule.exclude ?? []).map((s) => new RegExp(s, rule.ignoreCase ? 'i' : '')),
      excludeName: (rule.excludeName ?? []).map((s) => new RegExp(s, 'i')),
    });
    for (const kw of rule.keywords) {
      const bytes = Buffer.from(kw, 'utf8');
      const folded = Uint8Array.from(bytes, (b) => FOLD[b]!);
      // Keywords without letters compare equal folded or not; case-sensitive rules compare exact bytes.
      const exact = rule.ignoreCase || !/[a-z]/i.test(kw) ? null : bytes;
      const key = `${Buffer.from(folded).toString('latin1')}\u0000${exact ? 'x' : 'f'}\u0000${exact ? bytes.toString('latin1') : ''}`;
      let e = entries.get(key);
      if (!e) entries.set(key, (e = { folded, exact, rules: [] }));
      if (!e.rules.includes(index)) e.rules.push(index);
    }
  }
  const pairs = new Uint16Array(65536);
  const groups: KeywordEntry[][] = [];
  for (const e of entries.values()) {
    const k = (e.folded[0]! << 8) | e.folded[1]!;
    if (pairs[k] === 0) {
      groups.push([]);
      pairs[k] = groups.length;
    }
    groups[pairs[k]! - 1]!.push(e);
  }
  return { rules: compiled, pairs, groups, ids: compiled.map((r) => r.id), maxMultiline };
}

/** A value that only refers to a secret (`$TOKEN`, `${{ secrets.X }}`, `<your key>`, `%PASS%`): not one. */
const TEMPLATE = /^(?:\$[\w({]|<[^>]*>?$|\{\{|%[\w.-]+%?$|#\{|@\{|\*{3,}$)/;

function accept(rule: CompiledRule, secret: string, name: string | undefined): boolean {
  if (secret.length < rule.minLength) return false;
  if (TEMPLATE.test(secret)) return false;
  if (rule.entropy > 0 && shannonEntropy(secret) < rule.entropy) return false;
  if (rule.classes > 0 && charClasses(secret) < rule.classes) return false;
  for (const re of rule.exclude) if (re.test(secret)) return false;
  if (name !== undefined) for (const re of rule.excludeName) if (re.test(name)) return false;
  return true;
}

function runRule(rule: CompiledRule, buf: Buffer, s: number, e: number, out: ShapeFinding[]): void {
  const text = buf.toString('latin1', s, e);
  const re = rule.re;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    let start = m.index;
    let end = start + m[0].length;
    let secret = m[0];
    if (rule.hasSecret) {
      const span = m.indices?.groups?.secret;
      if (!span) continue;
      [start, end] = span;
      secret = m.groups!.secret!;
      // Resume right after the secret, not after the whole match, so a second assignment whose name
      // the pattern consumed as context still gets its own chance.
      re.lastIndex = Math.max(end, m.index + 1);
    }
    if (!accept(rule, secret, m.groups?.name)) {
      re.lastIndex = m.index + 1;
      continue;
    }
    out.push({ start: s + start, end: s + end, ruleId: rule.id });
  }
}

/** Every secret shape in a complete buffer: sorted, non-overlapping, spans of the secret parts only. */
export function findShapes(set: ShapeSet, buf: Buffer): ShapeFinding[] {
  const n = buf.length;
  if (n < 2) return [];
  const { pairs, groups, rules } = set;
  const pendS = new Int32Array(rules.length).fill(-1);
  const pendE = new Int32Array(rules.length).fill(-1);
  const raw: ShapeFinding[] = [];
  let prev = FOLD[buf[0]!]!;
  for (let i = 1; i < n; i++) {
    const cur = FOLD[buf[i]!]!;
    const g = pairs[(prev << 8) | cur]!;
    prev = cur;
    if (g === 0) continue;
    const p = i - 1;
    for (const entry of groups[g - 1]!) {
      const kw = entry.folded;
      const len = kw.length;
      if (p + len > n) continue;
      let ok = true;
      for (let j = 2; j < len; j++) {
        if (FOLD[buf[p + j]!] !== kw[j]) {
          ok = false;
          break;
        }
      }
      if (ok && entry.exact !== null) {
        for (let j = 0; j < len; j++) {
          if (buf[p + j] !== entry.exact[j]) {
            ok = false;
            break;
          }
        }
      }
      if (!ok) continue;
      for (const r of entry.rules) {
        const rule = rules[r]!;
        let s = p - rule.before;
        if (s < 0) s = 0;
        let e = p + len + rule.after;
        if (e > n) e = n;
        if (!rule.multiline) {
          for (let j = p - 1; j >= s; j--) {
            if (buf[j] === 10) {
              s = j + 1;
              break;
            }
          }
          const nl = buf.subarray(p + len, e).indexOf(10);
          if (nl >= 0) e = p + len + nl;
        }
        if (pendE[r]! >= s) {
          if (e > pendE[r]!) pendE[r] = e;
        } else {
          if (pendE[r]! >= 0) runRule(rule, buf, pendS[r]!, pendE[r]!, raw);
          pendS[r] = s;
          pendE[r] = e;
        }
      }
    }
  }
  for (let r = 0; r < rules.length; r++) if (pendE[r]! >= 0) runRule(rules[r]!, buf, pendS[r]!, pendE[r]!, raw);
  return mergeFindings(raw);
}

/** Sort, and merge overlapping findings into one (the leftmost's rule names it) so no fragment stays clear. */
export function mergeFindings(raw: ShapeFinding[]): ShapeFinding[] {
  if (raw.length <= 1) return raw;
  raw.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: ShapeFinding[] = [];
  let cur = { ...raw[0]! };
  for (let i = 1; i < raw.length; i++) {
    const f = raw[i]!;
    if (f.start < cur.end) {
      if (f.end > cur.end) cur.end = f.end;
    } else {
      out.push(cur);
      cur = { ...f };
    }
  }
  out.push(cur);
  return out;
}

const LABELS = new Map<string, Buffer>();
export function labelFor(ruleId: string): Buffer {
  let b = LABELS.get(ruleId);
  if (!b) LABELS.set(ruleId, (b = Buffer.from(`[REDACTED:${ruleId}]`)));
  return b;
}

/** The buffer with each finding replaced by [REDACTED:<rule-id>]; the input itself when nothing matched. */
export function renderShapes(buf: Buffer, findings: readonly ShapeFinding[]): Buffer {
  if (findings.length === 0) return buf;
  const parts: Buffer[] = [];
  let at = 0;
  for (const f of findings) {
    if (f.start > at) parts.push(buf.subarray(at, f.start));
    parts.push(labelFor(f.ruleId));
    at = f.end;
  }
  if (at < buf.length) parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

/**
 * The rule of the first keyword in `buf` that belongs to a case-sensitive rule (a token prefix such as
 * ghp_ or eyJ, as opposed to a label such as `token` in an assignment), or undefined.
 */
export function prefixRuleIn(set: ShapeSet, buf: Buffer): string | undefined {
  const { pairs, groups, rules } = set;
  for (let p = 0; p + 1 < buf.length; p++) {
    const g = pairs[(FOLD[buf[p]!]! << 8) | FOLD[buf[p + 1]!]!]!;
    if (g === 0) continue;
    for (const entry of groups[g - 1]!) {
      if (entry.exact === null && entry.rules.every((r) => !isPrefixRule(rules[r]!))) continue;
      const kw = entry.exact ?? entry.folded;
      if (p + kw.length > buf.length) {
        // A keyword cut off by the end of the bytes counts: the rest may be on its way.
        if (entry.exact && buf.subarray(p).equals(Buffer.from(kw.subarray(0, buf.length - p)))) return rules[entry.rules[0]!]!.id;
        continue;
      }
      let ok = true;
      for (let j = 0; j < kw.length && ok; j++) ok = (entry.exact ? buf[p + j] : FOLD[buf[p + j]!]) === kw[j];
      if (ok) return rules[entry.rules[0]!]!.id;
    }
  }
  return undefined;
}

/** A rule whose keyword is part of the secret itself rather than the name before it. */
function isPrefixRule(rule: CompiledRule): boolean {
  return !rule.re.ignoreCase;
}
