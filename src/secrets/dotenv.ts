/**
 * A dotenv reader for `outloop secrets import`. The rules are the common ground of dotenv (Node),
 * python-dotenv and POSIX shell, and where those disagree the shell's reading wins: a file people source
 * from bash must mean the same thing here.
 *
 * - `NAME=value` and `export NAME=value`; spaces around `=` are allowed; `#` lines and blank lines are skipped.
 * - Unquoted values are trimmed. `#` starts a comment only after whitespace, so `pa#ss` keeps its `#`.
 *   Backslashes and quotes inside an unquoted value are literal.
 * - 'single' and `backtick` quotes are literal: no escapes at all.
 * - "double" quotes understand \n \r \t \" \\ and \$; any other backslash is kept as written.
 * - Any quoted value may span lines; its newlines are kept.
 * - After a closing quote only a comment may follow on that line.
 * - No `${VAR}` expansion: a `$` is a `$`.
 * - A name given twice takes its last value (as in a shell).
 *
 * Anything else is an error naming the line, never its text: the text is very likely a secret.
 */

export interface DotenvEntry {
  name: string;
  value: string;
  /** 1-based line where the definition starts. */
  line: number;
}

export interface DotenvResult {
  /** In order of first appearance, each name once with its last value. */
  entries: DotenvEntry[];
  /** Names defined more than once. */
  duplicates: string[];
}

export class DotenvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'DotenvError';
  }
}

// dotenv accepts dots and dashes in names; whether a name is acceptable to outloop is the caller's call.
const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const EXPORT = /export[ \t]+(?=[A-Za-z_])/y;
const DOUBLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

export function parseDotenv(input: string): DotenvResult {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const byName = new Map<string, DotenvEntry>();
  const duplicates = new Set<string>();
  let i = 0;
  let line = 1;

  const skipBlanks = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  const atLineEnd = () => i >= text.length || text[i] === '\n';
  const skipRestOfLine = () => {
    while (!atLineEnd()) i++;
  };

  while (i < text.length) {
    skipBlanks();
    if (atLineEnd() || text[i] === '#') {
      skipRestOfLine();
      i++;
      line++;
      continue;
    }
    const start = line;
    EXPORT.lastIndex = i;
    if (EXPORT.test(text)) i = EXPORT.lastIndex;
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) throw new DotenvError(start, 'expected NAME=value');
    const name = m[0];
    i = NAME.lastIndex;
    skipBlanks();
    // Not named: a line with no `=` is as likely a pasted value as a name.
    if (text[i] !== '=') throw new DotenvError(start, 'expected NAME=value (no "=" after the name)');
    i++;
    skipBlanks();

    let value: string;
    const q = text[i];
    if (q === '"' || q === "'" || q === '`') {
      i++;
      let out = '';
      for (;;) {
        if (i >= text.length) throw new DotenvError(start, `the value of ${name} opens a ${q} quote that is never closed`);
        const c = text[i]!;
        if (c === q) {
          i++;
          break;
        }
        if (c === '\n') line++;
        if (q === '"' && c === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          const mapped = DOUBLE_ESCAPES[e];
          if (mapped !== undefined) {
            out += mapped;
            i += 2;
            continue;
          }
        }
        out += c;
        i++;
      }
      value = out;
      skipBlanks();
      if (!atLineEnd() && text[i] !== '#') throw new DotenvError(line, `unexpected text after the closing quote of ${name}`);
      skipRestOfLine();
    } else {
      const from = i;
      // A `#` right after `=` (as in `KEY= #note`) was preceded by the blanks skipped above.
      let commentAt = from > 0 && (text[from - 1] === ' ' || text[from - 1] === '\t') && text[from] === '#' ? from : -1;
      while (!atLineEnd()) {
        if (commentAt < 0 && text[i] === '#' && (text[i - 1] === ' ' || text[i - 1] === '\t')) commentAt = i;
        i++;
      }
      value = text.slice(from, commentAt < 0 ? i : commentAt).replace(/[ \t]+$/, '');
    }

    if (byName.has(name)) {
      duplicates.add(name);
      byName.get(name)!.value = value;
    } else {
      byName.set(name, { name, value, line: start });
    }
    i++;
    line++;
  }
  return { entries: [...byName.values()], duplicates: [...duplicates] };
}
