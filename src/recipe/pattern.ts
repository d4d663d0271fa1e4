/**
 * Is a parameter pattern safe to run? Patterns run on V8's backtracking engine (there is no linear-time
 * engine in Node without a native module, and V8's experimental one refuses the `u` flag), so a pattern
 * whose matching can take exponential time is refused at lint instead: `(a+)+b` against "aaaa...c" hangs
 * the process that checks it, before any audit record.
 *
 * The rule (a star-height check, conservative): a repeated group (`*`, `+`, `{n,}`, `{n,m}` with m above 1)
 * may contain no quantifier (`?` included) and no alternative `|`, unless it starts with a fixed separator
 * character that nothing else in it can match (`(,[a-z]{1,50}){0,9}`, `(\.[a-z0-9-]+)+`: each round starts
 * at the next separator, so matching is linear). That refuses `(a+)+`, `(a*)*`, `(a?)+`, `(\w+\s?)*`,
 * `(a|aa)+`, and also some safe ones like `(?:x|y)*` or `([a-z]+,)*`: write `[xy]*`, `(,[a-z]+)*` with the
 * separator first, or a repetition of a plain sequence (`(?:ab)+`).
 * What it does not catch: two adjacent repetitions that overlap (`\d+\d+`) are polynomial, not
 * exponential; param values are bounded by the command line (128 KiB per argument on Linux), and
 * maxLength bounds them further.
 */
export function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(`^(?:${pattern})$`, 'u');
  } catch (err) {
    return `pattern is not a valid regular expression: ${(err as Error).message}`;
  }
  const nested = nestedRepetition(pattern);
  if (nested) {
    return `pattern repeats a group that itself repeats or has alternatives (${nested}): matching it can take exponential time; rewrite it without nesting (e.g. [ab]+ for (a|b)+, a+ for (a+)+), or use enum`;
  }
  return undefined;
}

interface Group {
  start: number;
  /** Something inside repeats (or is optional). */
  repeats: boolean;
  /** Something inside has alternatives. */
  alternates: boolean;
  /** `|` directly in this group. */
  ownAlternates: boolean;
  /** Every leaf atom inside (characters, escapes, classes), in order. */
  atoms: string[];
  /** The group's first element, when it is a leaf atom directly in it: a candidate separator. */
  first?: { atom: string; quantified: boolean } | undefined;
  /** Has the group's first element been seen? */
  begun: boolean;
}

const newGroup = (start: number): Group => ({ start, repeats: false, alternates: false, ownAlternates: false, atoms: [], begun: false });

/**
 * A repetition led by a fixed character that nothing else in it can match, `(,[a-z]{1,50}){0,9}` or
 * `(\.[a-z0-9-]+)+`, is unambiguous: each round starts at the next separator, so it matches in linear
 * time whatever repeats inside.
 */
function separatorLed(g: Group): boolean {
  const f = g.first;
  if (!f || f.quantified || g.ownAlternates) return false;
  const lit = literalChar(f.atom);
  if (lit === undefined) return false;
  return g.atoms.slice(1).every((a) => {
    try {
      return !new RegExp(`^(?:${a})$`, 'u').test(lit);
    } catch {
      return false;
    }
  });
}

/** The one character an atom stands for, if it is a literal (`,`, `/`, `\.`), else undefined. */
function literalChar(atom: string): string | undefined {
  if (atom.length === 1 && !'.^$'.includes(atom)) return atom;
  if (atom.length === 2 && atom[0] === '\\' && /[^A-Za-z0-9]/.test(atom[1]!)) return atom[1];
  return undefined;
}

/** The first repeated group whose body repeats or alternates ambiguously, as source text; undefined if none. */
function nestedRepetition(src: string): string | undefined {
  const stack: Group[] = [newGroup(0)];
  const leaf = (from: number, to: number) => {
    const g = stack.at(-1)!;
    const atom = src.slice(from, to);
    g.atoms.push(atom);
    const q = quantifier(src, to);
    if (!g.begun) g.first = { atom, quantified: q !== undefined };
    g.begun = true;
    // Inside a repeated group even an optional atom (`?`) multiplies the ways to match: (a?)+.
    if (q) g.repeats = true;
    return q ? q.end : to;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      // \p{..}, \u{..}, \k<..> carry a bracketed part; everything else is one escaped character.
      const next = src[i + 1];
      let end: number;
      if ((next === 'p' || next === 'P' || next === 'u') && src[i + 2] === '{') end = src.indexOf('}', i) + 1 || src.length;
      else if (next === 'k' && src[i + 2] === '<') end = src.indexOf('>', i) + 1 || src.length;
      else end = i + 2;
      i = leaf(i, end);
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (src[j] === '^') j++;
      if (src[j] === ']') j++;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      i = leaf(i, j + 1);
      continue;
    }
    if (c === '(') {
      stack.at(-1)!.begun = true;
      stack.push(newGroup(i));
      i++;
      // (?: (?= (?! (?<= (?<! (?<name>
      if (src[i] === '?') {
        i++;
        if (src[i] === '<' && src[i + 1] !== '=' && src[i + 1] !== '!') i = src.indexOf('>', i) + 1 || src.length;
        else i++;
      }
      continue;
    }
    if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : stack[0]!;
      const parent = stack.at(-1)!;
      const q = quantifier(src, i + 1);
      if (q && q.repeats && (g.repeats || g.alternates || g.ownAlternates) && !separatorLed(g)) return src.slice(g.start, q.end);
      parent.repeats ||= g.repeats || q !== undefined;
      parent.alternates ||= g.alternates || g.ownAlternates;
      parent.atoms.push(...g.atoms);
      i = q ? q.end : i + 1;
      continue;
    }
    if (c === '|') {
      stack.at(-1)!.ownAlternates = true;
      i++;
      continue;
    }
    if (c === '^' || c === '$') {
      i++;
      continue;
    }
    i = leaf(i, i + 1);
  }
  return undefined;
}

/** A quantifier at `i`: does it allow more than one repetition, and where does it end (a lazy `?` included). */
function quantifier(src: string, i: number): { repeats: boolean; end: number } | undefined {
  const c = src[i];
  let repeats: boolean;
  let end: number;
  if (c === '*' || c === '+') [repeats, end] = [true, i + 1];
  else if (c === '?') [repeats, end] = [false, i + 1];
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
    if (!m) return undefined;
    const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
    [repeats, end] = [max > 1, i + m[0].length];
  } else return undefined;
  if (src[end] === '?') end++;
  return { repeats, end };
}
