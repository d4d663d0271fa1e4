import type { Command, Option } from 'commander';
import { loadRequestContext } from '../broker/context.js';
import { allRecipes, grantChecker } from '../recipe/catalogue.js';
import { AUDIT_DECISIONS } from './audit.js';
import { cliEnvironment } from './deps.js';
import type { CliOptions } from './main.js';

/**
 * Shell completion. The scripts `outloop completion bash|zsh|fish` prints are thin: at each TAB they call
 * `outloop __complete --line "<the line up to the cursor>"`, and this module answers from the command
 * tree (commander's own definitions) and from what exists now: the recipes this folder's tenant may run,
 * their parameters, the services and tenants in config.yaml. Nothing is cached in the shell, so a new
 * grant completes at once. A broken config completes nothing rather than printing errors into the prompt.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export function completionScript(shell: (typeof SHELLS)[number]): string {
  switch (shell) {
    case 'bash':
      return `# outloop completion for bash: add to ~/.bashrc
#   eval "$(outloop completion bash)"
_outloop_complete() {
  local IFS=$'\\n' cur="\${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=($(outloop __complete --line "\${COMP_LINE:0:COMP_POINT}" 2>/dev/null))
  # A parameter name ends in "=": no space after it, the value comes next.
  [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -o default -F _outloop_complete outloop
`;
    case 'zsh':
      return `#compdef outloop
# outloop completion for zsh: add to ~/.zshrc (after compinit)
#   eval "$(outloop completion zsh)"
_outloop() {
  local -a all eq rest
  # Unquoted (f) split: no output is no candidate (then files), not one empty one.
  all=(\${(f)"$(outloop __complete --line "\${(j: :)\${(@)words[1,CURRENT]}}" 2>/dev/null)"})
  eq=(\${(M)all:#*=})
  rest=(\${all:#*=})
  (( \${#eq} )) && compadd -S '' -- \${eq}
  (( \${#rest} )) && compadd -- \${rest}
  (( \${#all} )) || _files
}
compdef _outloop outloop
`;
    case 'fish':
      return `# outloop completion for fish: save as ~/.config/fish/completions/outloop.fish
#   outloop completion fish > ~/.config/fish/completions/outloop.fish
complete -c outloop -f -a '(outloop __complete --line (commandline -cp) 2>/dev/null)'
`;
  }
}

interface World {
  targets: string[];
  services: string[];
  tenants: string[];
  recipesOf(service: string): string[];
  paramsOf(target: string): string[];
  grantedServices(tenant?: string): string[];
}

async function world(opts: CliOptions): Promise<World> {
  const ctx = await loadRequestContext(cliEnvironment(opts));
  const recipes = await allRecipes(ctx.recipeDirs, ctx.cache);
  const granted = grantChecker(ctx);
  const tenants = ctx.config.config.tenants;
  return {
    targets: recipes.filter(granted).map((r) => `${r.service}.${r.name}`),
    services: [...new Set(recipes.map((r) => r.service))],
    tenants: Object.keys(tenants),
    recipesOf: (s) => recipes.filter((r) => r.service === s).map((r) => r.name),
    paramsOf: (t) => recipes.filter((r) => `${r.service}.${r.name}` === t).flatMap((r) => Object.keys(r.params).map((p) => `${p}=`)),
    grantedServices: (t = ctx.binding?.tenant) => (t && Object.hasOwn(tenants, t) ? Object.keys(tenants[t]!.services) : []),
  };
}

function findOption(cmd: Command, token: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === token || x.short === token);
    if (o) return o;
  }
  return undefined;
}

/** The candidates for the last word of `line` (the command line up to the cursor, "outloop" first). */
export async function complete(program: Command, line: string, opts: CliOptions): Promise<string[]> {
  const words = line.split(/\s+/);
  if (words[0] === '') words.shift();
  const current = words.pop() ?? '';
  const before = words.slice(1);
  let cmd = program;
  const positionals: string[] = [];
  let pendingOption: Option | undefined;
  const optionValues = new Map<string, string>();
  for (const w of before) {
    if (w === '--') break;
    if (pendingOption) {
      optionValues.set(pendingOption.attributeName(), w);
      pendingOption = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const o = findOption(cmd, w.split('=')[0]!);
      if (o && (o.required || o.optional) && !w.includes('=')) pendingOption = o;
      continue;
    }
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
    if (sub) cmd = sub;
    else positionals.push(w);
  }

  const path = [] as string[];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) path.unshift(c.name());
  const where = path.join(' ');
  const pick = (xs: readonly string[]) => [...new Set(xs)].filter((x) => x.startsWith(current)).sort();
  let w: World | undefined;
  const get = async () => (w ??= await world(opts));

  try {
    if (pendingOption) {
      const name = pendingOption.attributeName();
      if (pendingOption.argChoices) return pick(pendingOption.argChoices);
      if (name === 'param') return pick((await get()).paramsOf(positionals[0] ?? ''));
      if (name === 'tenant') return pick((await get()).tenants);
      if (name === 'decision') return pick(AUDIT_DECISIONS);
      if (name === 'service') return pick(where === 'run' || where === 'redact' ? (await get()).grantedServices() : (await get()).services);
      return [];
    }
    if (current.startsWith('-')) {
      return pick(cmd.options.filter((o) => !o.hidden).flatMap((o) => (o.long ? [o.long] : [])));
    }
    if (cmd.commands.length && positionals.length === 0) {
      return pick(cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name()));
    }
    const i = positionals.length;
    switch (where) {
      case 'exec':
      case 'check':
        return i === 0 ? pick((await get()).targets) : [];
      case 'recipes show':
        return i === 0 ? pick((await get()).services) : [];
      case 'grant':
      case 'revoke': {
        const g = await get();
        if (i === 0) return pick(g.tenants);
        if (i === 1) return pick(where === 'revoke' ? g.grantedServices(positionals[0]) : g.services);
        return pick(g.recipesOf(positionals[1]!).filter((r) => !positionals.slice(2).includes(r)));
      }
      case 'tenant bind':
        return i === 0 ? pick((await get()).tenants) : [];
      case 'completion':
        return i === 0 ? pick(SHELLS) : [];
      case 'schema':
        return i === 0 ? pick(['recipe', 'config']) : [];
      default:
        return [];
    }
  } catch {
    // An invalid config or unreadable recipe folder: no candidates, and no error text in the prompt.
    return [];
  }
}
