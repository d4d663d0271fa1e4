/**
 * What a caller of the daemon may ask for, decided from argv before anything runs. An allow-list: a
 * command added later is person-only until it is listed here, so a new way to change policy is never
 * open to the agent by default.
 */

export type Access = 'agent' | 'person' | 'session';

/**
 * Commands that read or run within policy. Everything else changes policy, secrets or sessions, or (as
 * `recipes lint FILE` and `policy test FILE` would) reads a file the caller names with the daemon's
 * rights, where a parse error could quote the daemon's own files.
 */
const AGENT_COMMANDS = new Set(['exec', 'check', 'run', 'redact', 'audit', 'approvals', 'doctor', 'mcp', 'replay', 'schema', 'help']);
/** Within these, only the listed subcommands are the agent's: references and recipes, never a value. */
const AGENT_SUBCOMMANDS: Readonly<Record<string, ReadonlySet<string>>> = { secrets: new Set(['list']), recipes: new Set(['list', 'show']) };


export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith('-')) continue;
    words.push(a);
    if (words.length === 2) break;
  }
  return words;
}

export function classify(argv: readonly string[]): Access {
  const [cmd, sub] = commandWords(argv);
  if (cmd === undefined) return 'agent'; // help, --version
  if (cmd === 'session') return 'session';
  if (AGENT_COMMANDS.has(cmd)) return 'agent';
  const subs = AGENT_SUBCOMMANDS[cmd];
  if (subs && sub !== undefined && subs.has(sub)) return 'agent';
  return 'person';
}

/**
 * A person is a caller who proved it: root, that is `sudo` with the person's password. The daemon's own
 * uid is not one (its children run as that uid), and neither is any uid that merely holds a terminal.
 */
export function isPerson(uid: number): boolean {
  return uid === 0;
}

/** The last value of an option (`--name V` or `--name=V`) before any `--`: what follows `--` is a command's. */
export function optionValue(argv: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === name) found = argv[++i];
    else if (a.startsWith(`${name}=`)) found = a.slice(name.length + 1);
  }
  return found;
}

/** The tenant a request asserts with --tenant (what the session's tenant must match). */
export function assertedTenant(argv: readonly string[]): string | undefined {
  return optionValue(argv, '--tenant');
}
