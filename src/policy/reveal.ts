/**
 * Commands whose only use under `outloop run` is to show the injected values: `env`, `printenv`, a shell's
 * `set`/`export -p`/`declare -p`, a pager or dump of a `.env`-like file, `echo $NAME` of an injected name.
 * They are refused before anything is read, so asking costs no backend call.
 *
 * Why this exists although output is redacted anyway: the redactor catches the values it knows, but a
 * dump of the whole environment is never the task, and refusing it up front leaves a clear record
 * (`reveal_command`) of an agent trying. It is a pure look at the argv (and at the script of `sh -c`),
 * not a sandbox: an interpreter asked to print its environment (`node -e 'console.log(process.env)'`,
 * `python -c ...`, `perl -e ...`) or a program of the user's own that does so is out of scope here; its
 * output still passes the redactor.
 */

export interface RevealFinding {
  /** The offending simple command, as words. */
  command: string[];
  why: string;
}

/** Show the whole environment when run without a command. */
const DUMPERS = new Set(['printenv']);
/** Shell builtins that list variables (reachable only through `sh -c`, but an argv can name them too). */
const SHELL_LISTERS: Record<string, (args: string[]) => boolean> = {
  set: (a) => a.length === 0,
  export: (a) => a.length === 0 || a.every((x) => x.startsWith('-')),
  declare: (a) => a.length === 0 || a.every((x) => /^-[a-zA-Z]*[px]/.test(x) || x === '-'),
  typeset: (a) => a.length === 0 || a.every((x) => /^-[a-zA-Z]*[px]/.test(x) || x === '-'),
  compgen: (a) => a.some((x) => /^-[a-zA-Z]*[ve]/.test(x)),
};
/** Programs that print or page a file: refused when a file is `.env`-like. */
const FILE_SHOWERS = new Set(['cat', 'tac', 'less', 'more', 'most', 'head', 'tail', 'bat', 'batcat', 'strings', 'xxd', 'od', 'hexdump', 'base64', 'base32', 'nl', 'view', 'grep', 'rg']);
/** Wrappers that run the rest of their argv as the command. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox']);

/**
 * `.env`, `.env.local`, `prod.env`, `.envrc`: the files `op run --env-file` and direnv read. Templates
 * (`.env.example`, `.env.sample`, `.env.template`) hold no values and may be shown.
 */
export function isDotenvLike(path: string): boolean {
  const base = path.split('/').pop() ?? '';
  if (/^\.env\.(example|sample|template|dist)$/.test(base)) return false;
  return /^\.env(\..+)?$/.test(base) || /^.+\.env$/.test(base) || base === '.envrc';
}

function baseName(cmd: string): string {
  return cmd.split('/').pop() ?? cmd;
}

/**
 * The first simple command of argv (or of a `sh -c` script in it) that would reveal injected values, or
 * undefined. `injected` holds the names outloop would set, for `echo $NAME`.
 */
export function revealFinding(argv: readonly string[], injected: ReadonlySet<string>, depth = 0): RevealFinding | undefined {
  if (argv.length === 0 || depth > 4) return undefined;
  const [cmd, ...args] = argv as [string, ...string[]];
  const name = baseName(cmd);

  if (name === 'env') return envFinding(argv, args, injected, depth);
  if (DUMPERS.has(name)) return { command: [...argv], why: `${name} prints the environment, including every injected value` };
  const lister = Object.hasOwn(SHELL_LISTERS, name) ? SHELL_LISTERS[name] : undefined;
  if (lister?.(args)) return { command: [...argv], why: `${name} ${args[0] ?? ''} lists the shell's variables, including every injected value` };
  if (FILE_SHOWERS.has(name)) {
    const file = args.find((a) => !a.startsWith('-') && isDotenvLike(a));
    if (file) return { command: [...argv], why: `${name} would show ${file}, a .env-like file` };
  }
  if (name === 'echo' || name === 'printf') {
    const v = args.flatMap(varRefs).find((n) => injected.has(n));
    if (v) return { command: [...argv], why: `${name} would print $${v}, an injected secret` };
  }
  // Wrappers that exec the rest of their argv unchanged.
  if (['command', 'exec', 'nohup', 'builtin'].includes(name)) return revealFinding(args.filter((a, i) => !(i === 0 && a.startsWith('-'))), injected, depth + 1);
  if (name === 'time' || name === 'nice' || name === 'timeout' || name === 'stdbuf') return revealFinding(skipWrapperArgs(name, args), injected, depth + 1);
  if (SHELLS.has(name)) {
    const script = shellScript(name === 'busybox' ? args.slice(1) : args);
    if (script !== undefined) {
      for (const simple of splitScript(script)) {
        const f = revealFinding(simple, injected, depth + 1);
        if (f) return f;
      }
    }
  }
  return undefined;
}

/** `env` alone (or with only options and NAME=value assignments) prints the environment; with a command it runs it. */
function envFinding(argv: readonly string[], args: string[], injected: ReadonlySet<string>, depth: number): RevealFinding | undefined {
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-u' || a === '--unset' || a === '-C' || a === '--chdir' || a === '-S' || a === '--split-string') {
      // -S takes the rest of the command as one string: look inside it.
      if (a === '-S' || a === '--split-string') return revealFinding(splitWords(args[i + 1] ?? '').concat(args.slice(i + 2)), injected, depth + 1);
      i += 2;
      continue;
    }
    if (a.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      i++;
      continue;
    }
    break;
  }
  const rest = args.slice(i).filter((a, k) => k > 0 || !/^[A-Za-z_][A-Za-z0-9_]*=/.test(a));
  if (rest.length === 0) return { command: [...argv], why: 'env without a command prints the environment, including every injected value' };
  return revealFinding(rest, injected, depth + 1);
}

function skipWrapperArgs(name: string, args: string[]): string[] {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += name === 'nice' && args[i] === '-n' ? 2 : 1;
  if (name === 'timeout' || (name === 'nice' && i === 0 && /^-?\d+$/.test(args[0] ?? ''))) i++;
  return args.slice(i);
}

/** The script of `sh [-opts]c SCRIPT`, or undefined when the shell runs a file or reads stdin. */
function shellScript(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--' || !a.startsWith('-') || a.startsWith('--')) {
      if (a.startsWith('--') && a !== '--') continue;
      return undefined;
    }
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(a)) {
      // Options after -c (`bash -c -x 'script'` is not valid, but `-ec`/`-lc` are): the next non-option is the script.
      const script = args.slice(i + 1).find((x) => !x.startsWith('-'));
      return script;
    }
  }
  return undefined;
}

/** `$NAME`, `${NAME}`, `${NAME:-x}` in a word. */
function varRefs(word: string): string[] {
  return [...word.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/**
 * A shell script cut into simple commands at `;`, `&`, `|`, newlines and `&&`/`||`, each split into words
 * with quotes removed. Deliberately small (no expansion, no here-docs): it looks for the plain spellings
 * above, and a script too clever for it still runs under the redactor.
 */
export function splitScript(script: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    // Drop leading assignments (`FOO=1 env`) and grouping words, as the shell would.
    while (words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!) || ['(', '{', '!', 'then', 'do', 'else', 'if', 'while', 'until'].includes(words[0]!))) words.shift();
    if (words.length) out.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < script.length) word += script[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < script.length) {
      word += script[++i];
      inWord = true;
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')' || c === '`') {
      endCommand();
    } else if (c === '$' && script[i + 1] === '(') {
      endCommand();
      i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return out;
}

function splitWords(s: string): string[] {
  return splitScript(s)[0] ?? [];
}
