import { Argument, Command, CommanderError, Option } from 'commander';
import { Exit, UsageError } from '../errors.js';
import { checkCommand, execCommand } from './exec.js';
import { RUN_HELP, runCommand } from './run.js';
import { REDACT_HELP, redactCommand } from './redact.js';
import type { CliOptions } from './main.js';
import { CHECK_OPTIONS, EXEC_OPTIONS, commanderFlags, type OptionSpec } from './options.js';
import { printError } from './output.js';
import { collectParam } from './params.js';
import { VERSION } from '../version.js';
import { recipesCommands, secretsCommands, auditCommands, initCommand, demoCommand, schemaCommand, importCommand, IMPORT_TARGETS, doctorCommand, mcpCommand, AGENT_CLIENTS, policyTestCommand, approvalsCommands, replayCommands, tenantCommands, configCheckCommand, CONFIG_CHECK_HELP, complete, completionScript, SHELLS, systemCommands } from '../cold.js';

/**
 * The full command line with commander: help, usage errors, and every command but the ordinary exec and
 * check lines, which main.ts parses itself. This module is part of the lazily loaded cold chunk.
 */

function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const s of specs) {
    const o = new Option(commanderFlags(s), s.description);
    if (s.repeat) o.argParser(collectParam);
    if (s.env) o.env(s.env);
    cmd.addOption(o);
  }
  return cmd;
}

/** Examples for the --help of every command that does not carry its own (by command path). */
const EXAMPLES: Readonly<Record<string, string[]>> = {
  exec: ['outloop exec stripe.list-invoices -p limit=5', 'outloop exec github.list-issues -p owner=acme -p repo=web --json', 'outloop exec stripe.refund -p charge=ch_123 --wait'],
  check: ['outloop check stripe.list-invoices -p limit=5', 'outloop check github.get-repo -p owner=acme -p repo=web --json | jq .gates'],
  approvals: ['outloop approvals', 'outloop approvals --json'],
  approve: ['outloop approve ap_0123456789 --reason "refund agreed with the client"', 'sudo outloop approve ap_0123456789'],
  deny: ['outloop deny ap_0123456789 --reason "not this week"'],
  recipes: ['outloop recipes list --granted', 'outloop recipes show stripe', 'outloop recipes lint ~/team-recipes/*.yaml'],
  'recipes show': ['outloop recipes show github', 'outloop recipes show stripe --json | jq \'.recipes[].name\''],
  'recipes lint': ['outloop recipes lint', 'outloop recipes lint ./recipes/billing.yaml --json'],
  secrets: ['printf %s "$STRIPE_KEY" | outloop secrets set local:acme/stripe', 'outloop secrets list', 'outloop secrets import .env --service api'],
  'secrets set': ['printf %s "$STRIPE_KEY" | outloop secrets set local:acme/stripe', 'outloop secrets set local:acme/stripe    # hidden prompt'],
  'secrets list': ['outloop secrets list', 'outloop secrets list --json'],
  'secrets rm': ['outloop secrets rm local:acme/stripe'],
  'secrets import': ['outloop secrets import .env --service api --dry-run', 'outloop secrets import .env --service api --tenant globex --to keychain'],
  config: ['outloop config check'],
  tenant: ['outloop tenant add globex --project ~/clients/globex', 'outloop tenant list'],
  'audit verify': ['outloop audit verify', 'outloop audit verify --json'],
  'audit show': ['outloop audit show ol_0123456789abcdef'],
  'audit lookup': ['printf %s "$LEAKED_KEY" | outloop audit lookup'],
  replay: ['outloop replay ol_0123456789abcdef', 'outloop replay ol_0123456789abcdef --speed 4 --max-wait 1'],
  policy: ['outloop policy test policy-tests.yaml'],
  'policy test': ['outloop policy test policy-tests.yaml', 'outloop policy test policy-tests.yaml --json'],
  init: ['outloop init --tenant acme', 'outloop init --tenant globex            # config exists: adds globex for this folder', 'outloop init --agent claude-code'],
  doctor: ['outloop doctor', 'outloop doctor --json | jq \'.findings[] | select(.severity != "ok")\''],
  demo: ['outloop demo'],
  schema: ['outloop schema config > config.schema.json', 'outloop schema recipe'],
  session: ['sudo outloop session --tenant acme -- claude', 'sudo outloop session --tenant acme --pid 4242'],
  system: ['sudo outloop system install', 'sudo outloop system import /home/me', 'sudo outloop system uninstall'],
  'system install': ['sudo outloop system install', 'outloop system install --prefix /tmp/ol --user outloop   # side by side, for tests'],
  'system uninstall': ['sudo outloop system uninstall', 'sudo outloop system uninstall --purge   # also the config, store and audit log'],
  'system import': ['sudo outloop system import            # the sudo caller\'s home', 'sudo outloop system import /srv/outloop-home'],
  completion: ['eval "$(outloop completion bash)"      # in ~/.bashrc', 'eval "$(outloop completion zsh)"       # in ~/.zshrc', 'outloop completion fish > ~/.config/fish/completions/outloop.fish'],
};

function addExamples(root: Command): void {
  const walk = (cmd: Command, path: string[]) => {
    for (const c of cmd.commands) {
      const p = [...path, c.name()];
      const ex = EXAMPLES[p.join(' ')];
      if (ex) c.addHelpText('after', `\nExamples:\n${ex.map((l) => `  $ ${l}`).join('\n')}`);
      walk(c, p);
    }
  };
  walk(root, []);
}

export async function runProgram(argv: string[], opts: CliOptions): Promise<number> {
  // `outloop recipes list | head -1`: the reader left; stop quietly with SIGPIPE's status, as coreutils
  // do. (exec handles this itself, after recording the outcome.)
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(Exit.readerGone);
      throw err;
    });
  }
  let exitCode = 0;
  let json = false;
  const set = (code: number) => {
    exitCode = code;
  };
  const program = new Command('outloop')
    .description('Let AI agent loops use API credentials without ever holding them.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  program.addHelpText(
    'after',
    `
Exit codes: the child's own code when it ran (128+N for signal N); 64 usage; 65 bad parameter;
69 secret backend unavailable; 70 internal error or audit log unwritable; 75 waiting for approval;
77 denied by policy; 78 invalid config or recipe; 124 timed out; 127 command not found;
141 the reader of outloop's output went away (the child got SIGPIPE, as in a bare pipeline).

Examples:
  $ outloop exec stripe.list-invoices -p limit=5
  $ outloop check stripe.list-invoices -p limit=5
  $ outloop run --service stripe -- ./deploy.sh
  $ printf %s "$KEY" | outloop secrets set local:acme/stripe
  $ outloop demo`,
  );

  addOptions(program.command('exec').description('run an approved recipe: check policy, read the secret, run, redact, audit').argument('<service.recipe>', 'what to run, e.g. stripe.list-invoices'), EXEC_OPTIONS)
    .action(async (target: string, o) => {
      json = Boolean(o.json);
      set(await execCommand(target, { ...o, param: o.param ?? {} }, opts));
    });

  addOptions(program.command('check').description('explain the policy decision gate by gate; never touches a secret backend (exit 0 allowed, 77 denied)').argument('<service.recipe>'), CHECK_OPTIONS)
    .action(async (target: string, o) => {
      json = Boolean(o.json);
      set(await checkCommand(target, { ...o, param: o.param ?? {} }, opts));
    });

  program
    .command('run')
    .description('run an existing script with the services\' secrets as environment variables, output redacted (needs run: true)')
    .usage('--service S [--service S2] [options] -- CMD [ARGS...]')
    .argument('<cmd...>', 'the command and its arguments, after --')
    .option('--service <name>', 'a service whose secrets the command gets (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .addOption(new Option('--tenant <name>', 'assert the tenant this project must belong to').env('OUTLOOP_TENANT'))
    .option('--pty', 'run under a pseudo-terminal even when stdout is not a terminal')
    .option('--no-pty', 'use pipes even on a terminal (stdout and stderr stay separate)')
    .option('--env-file <file>', 'NAME=reference lines (op://..., local:...) to inject, as with op run --env-file')
    .option('--placeholders', 'give the command per-run placeholders; the egress proxy puts the real values in only on requests to each service\'s hosts')
    .option('--json', 'print one JSON object (ok, decision, exitCode, stdout, stderr, redactions, auditId)')
    .addHelpText('after', RUN_HELP)
    .action(async (cmd: string[], o) => {
      json = Boolean(o.json);
      set(await runCommand(cmd, o, opts));
    });

  program
    .command('redact')
    .description('filter stdin to stdout with the same redactor as exec: this tenant\'s values and secret shapes')
    .option('--service <name>', 'only the values of this service\'s grant (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .addOption(new Option('--tenant <name>', 'assert the tenant this project must belong to').env('OUTLOOP_TENANT'))
    .option('-q, --quiet', 'no count of redactions on stderr')
    .addHelpText('after', REDACT_HELP)
    .action(async (o) => {
      set(await redactCommand(o, opts));
    });

  program
    .command('approvals')
    .description('list the requests waiting for a person\'s approval')
    .option('--json', 'machine-readable')
    .action(async (o) => {
      json = Boolean(o.json);
      set(await approvalsCommands.listCommand(o));
    });
  for (const verb of ['approve', 'deny'] as const) {
    program
      .command(verb)
      .description(`${verb} a waiting request: shows it and asks you to type yes (needs an interactive terminal)`)
      .argument('<id>', 'the approval id, e.g. ap_0123456789')
      .option('--reason <text>', 'why; kept in the audit log (required when the grant says approvalReason: required)')
      .action(async (id: string, o) => {
        set(await approvalsCommands.answerCommand(verb, id, o));
      });
  }

  const recipes = program.command('recipes').description('what exists, what is granted here, and what is wrong with a file');
  recipes
    .command('list')
    .description('every recipe, and whether this project\'s tenant may run it')
    .option('--json', 'machine-readable')
    .option('--granted', 'only the recipes this project\'s tenant may run')
    .addHelpText('after', '\nExamples:\n  $ outloop recipes list --granted\n  $ outloop recipes list --json | jq -r \'.recipes[] | select(.granted) | .name\'')
    .action(async (o) => {
      json = Boolean(o.json);
      set(await recipesCommands.listCommand(o, opts));
    });
  recipes
    .command('show')
    .description('a service\'s recipes: parameters, risk, hosts, source file')
    .argument('<service>')
    .option('--json', 'machine-readable')
    .action(async (service: string, o) => {
      json = Boolean(o.json);
      set(await recipesCommands.showCommand(service, o, opts));
    });
  recipes
    .command('lint')
    .description('check recipe files without running anything (file:line:col errors, exit 78)')
    .argument('[files...]', 'files to check (default: every recipe folder)')
    .option('--json', 'machine-readable')
    .action(async (files: string[], o) => {
      json = Boolean(o.json);
      set(await recipesCommands.lintCommand(files, o, opts));
    });

  const secrets = program.command('secrets').description('write, list and remove stored secrets (never prints a value)');
  secrets
    .command('set')
    .description('store a value read from stdin or a hidden prompt (never from the command line)')
    .argument('<ref>', 'where to store it, e.g. local:acme/stripe')
    .argument('[value...]')
    .action(async (ref: string, rest: string[]) => {
      set(await secretsCommands.setCommand(ref, rest, opts));
    });
  secrets
    .command('list')
    .description('the references in the local store, and which grants use them')
    .option('--json', 'machine-readable')
    .action(async (o) => {
      json = Boolean(o.json);
      set(await secretsCommands.listCommand(o, opts));
    });
  secrets
    .command('rm')
    .description('remove a stored value')
    .argument('<ref>')
    .action(async (ref: string) => {
      set(await secretsCommands.rmCommand(ref, opts));
    });

  secrets
    .command('import')
    .description('move the values of a dotenv file into a secret backend and bind them in config.yaml (prints no value)')
    .argument('<file>', 'the dotenv file, e.g. .env')
    .requiredOption('--service <name>', 'the service whose grant gets the bindings (created with allow: [] if missing)')
    .option('--tenant <name>', 'the tenant to bind them for (default: the tenant of this folder)')
    .addOption(new Option('--to <backend>', 'where the values go').choices(IMPORT_TARGETS).default('local'))
    .option('--force', 'replace existing bindings (and stored values) of the same names')
    .option('--dry-run', 'show what would move; write nothing')
    .addHelpText('after', `
References: --to local stores NAME as local:TENANT/SERVICE/name (lowercased);
--to keychain as keychain:outloop-TENANT/SERVICE/NAME. Exit 0 moved; 64 usage (bad file or name,
no tenant, a binding exists without --force); 69 backend failed (the output says which moved).`)
    .action(async (file: string, o) => {
      set(await importCommand(file, o, opts));
    });

  program
    .command('config')
    .description('check config.yaml and the recipe folders')
    .command('check')
    .description('validate config.yaml and every recipe file without running anything (file:line:col, exit 78 on error)')
    .option('--json', 'machine-readable')
    .addHelpText('after', CONFIG_CHECK_HELP)
    .action(async (o) => {
      json = Boolean(o.json);
      set(await configCheckCommand(o, opts));
    });

  const tenant = program.command('tenant').description('add a client (tenant), bind project folders and agent users to it, list tenants and their grants');
  tenant
    .command('add')
    .description('add a tenant bound to a project folder (edits config.yaml, keeping its comments)')
    .argument('<name>', 'the tenant, e.g. globex')
    .option('--project <dir>', 'the project folder to bind (default: the current directory)')
    .addHelpText('after', '\nExamples:\n  $ outloop tenant add globex --project ~/clients/globex\n  $ cd ~/clients/initech && outloop tenant add initech')
    .action(async (name: string, o) => set(await tenantCommands.tenantAddCommand(name, o, opts)));
  tenant
    .command('bind')
    .description('bind one more folder to an existing tenant')
    .argument('<name>', 'the tenant')
    .argument('<dir>', 'the folder (it and everything below it belong to the tenant)')
    .addHelpText('after', '\nExamples:\n  $ outloop tenant bind globex ~/clients/globex-api')
    .action(async (name: string, dir: string) => set(await tenantCommands.tenantBindCommand(name, dir, opts)));
  tenant
    .command('user')
    .description('bind an OS user\'s requests to a tenant (system mode: its uid decides, not the folder it names)')
    .argument('<name>', 'the tenant')
    .argument('<user>', 'the agent\'s OS user name, or uid')
    .addHelpText('after', '\nExamples:\n  $ sudo outloop tenant user acme outloop-agent-acme')
    .action(async (name: string, user: string) => set(await tenantCommands.tenantUserCommand(name, user, opts)));
  tenant
    .command('list')
    .description('every tenant, its project folders and grants; * marks this folder\'s tenant')
    .option('--json', 'machine-readable')
    .addHelpText('after', '\nExamples:\n  $ outloop tenant list\n  $ outloop tenant list --json | jq -r .current')
    .action(async (o) => {
      json = Boolean(o.json);
      set(await tenantCommands.tenantListCommand(o, opts));
    });

  program
    .command('grant')
    .description('let a tenant run a service\'s recipes (all of them when none are named); edits config.yaml')
    .argument('<tenant>')
    .argument('<service>')
    .argument('[recipes...]', 'the recipes to allow (default: every recipe, "*")')
    .option('--until <time>', 'the access ends by itself: a time with its zone (2026-12-01T00:00:00Z) or a duration from now (8h, 7d); with recipes it applies to those recipes, else to the whole grant')
    .option('--secret <NAME=REF>', 'bind a secret the recipes need to a reference, e.g. STRIPE_KEY=local:acme/stripe (repeatable)', (v: string, acc: Record<string, string> = {}) => collectParam(v, acc))
    .option('--run', 'also let `outloop run` wrap commands with this service\'s secrets (run: true)')
    .addHelpText('after', `
Exit 0 granted (or already granted); 64 unknown tenant, service or recipe (with "did you mean"), or a bad
--until/--secret; 78 the edit would make config.yaml invalid (nothing is written).

Examples:
  $ outloop grant acme stripe list-invoices get-invoice --secret STRIPE_KEY=local:acme/stripe
  $ outloop grant acme github --until 8h
  $ outloop grant acme stripe --run --secret STRIPE_KEY=local:acme/stripe
  $ outloop grant globex stripe refund --until 2026-12-01T00:00:00Z`)
    .action(async (t: string, s: string, recipes: string[], o) => set(await tenantCommands.grantCommand(t, s, recipes, o, opts)));

  program
    .command('revoke')
    .description('take a service (or some of its recipes) away from a tenant; edits config.yaml')
    .argument('<tenant>')
    .argument('<service>')
    .argument('[recipes...]', 'the recipes to take away (default: the whole grant, with its secret bindings)')
    .addHelpText('after', `
Under allow: ["*"], a named recipe is taken away with a deny rule. Stored values are not deleted.

Examples:
  $ outloop revoke acme stripe refund
  $ outloop revoke globex github`)
    .action(async (t: string, s: string, recipes: string[]) => set(await tenantCommands.revokeCommand(t, s, recipes, opts)));

  const audit = program
    .command('audit')
    .description('read the audit trail (a table; --json for one record per line)')
    .option('--json', 'one JSON record per line')
    .option('--follow', 'keep printing new records as they are written')
    .option('-n, --limit <n>', 'only the last N attempts', (v) => Number.parseInt(v, 10))
    .option('--tenant <name>', 'only this tenant\'s attempts')
    .option('--service <name>', 'only attempts on this service')
    .option('--decision <d>', 'only attempts that ended so: allow, deny, approval_required, error')
    .option('--since <time>', 'only attempts since a time (2026-12-01T00:00:00Z) or for a duration back (30m, 1h, 7d)')
    .addHelpText('after', `
Examples:
  $ outloop audit -n 20
  $ outloop audit --tenant acme --decision deny --since 1h
  $ outloop audit --service stripe --json | jq -r .code
  $ outloop audit --follow --tenant globex`)
    .action(async (o) => {
      json = Boolean(o.json);
      set(await auditCommands.showCommand(o));
    });
  // `audit` has its own --json; commander hands the flag to the parent wherever it appears, so each
  // subcommand reads it with the parent's options.
  const auditOpts = (cmd: Command) => {
    const o = cmd.optsWithGlobals();
    json = Boolean(o.json);
    return o;
  };
  audit
    .command('verify')
    .description('check the hash chain; names the first bad record (exit 1 if broken)')
    .option('--json', 'machine-readable')
    .action(async (_o, cmd: Command) => set(await auditCommands.verifyCommand(auditOpts(cmd))));
  audit
    .command('show')
    .description('one attempt\'s records (start, end, ...) and whether its recording still matches its sha256 (exit 65 changed, 66 gone)')
    .argument('<id>', 'the audit id, e.g. ol_...')
    .option('--json', 'machine-readable')
    .action(async (id: string, _o, cmd: Command) => set(await replayCommands.showCommand(id, auditOpts(cmd))));
  audit
    .command('lookup')
    .description('was this key used? reads a value from stdin or a hidden prompt, lists the attempts that used it (exit 1 if none)')
    .option('--json', 'machine-readable')
    .action(async (_o, cmd: Command) => set(await auditCommands.lookupCommand(auditOpts(cmd))));

  program
    .command('replay')
    .description('play an attempt\'s recording (exec --record, or record: true in the grant) at its original pace')
    .argument('<id>', 'the audit id, e.g. ol_...')
    .option('--speed <n>', 'playback speed: 2 plays twice as fast')
    .option('--max-wait <seconds>', 'cap every pause at this many seconds')
    .addHelpText('after', '\nCtrl-C stops (exit 130). Exit 64 unknown id, 66 no recording or gone, 65 changed since the run.')
    .action(async (id: string, o) => {
      set(await replayCommands.replayCommand(id, o));
    });

  program
    .command('policy')
    .description('keep policy under test')
    .command('test')
    .description('run a YAML list of cases (where from, request, expected decision and code) through the policy; exit 1 on any mismatch')
    .argument('<file>', 'the cases, e.g. policy-tests.yaml')
    .option('--json', 'machine-readable')
    .action(async (file: string, o) => {
      json = Boolean(o.json);
      set(await policyTestCommand(file, o, opts));
    });

  program
    .command('init')
    .description('write a commented starter config.yaml and an example recipe')
    .option('--tenant <name>', 'bind the current directory to this tenant')
    .option('--force', 'overwrite an existing config.yaml')
    .addOption(new Option('--agent <client>', 'write this agent\'s MCP configuration for the current project (and print its permission rules)').choices(AGENT_CLIENTS))
    .action(async (o) => {
      set(await initCommand(o, opts));
    });

  program
    .command('mcp')
    .description('serve the recipes granted to this project\'s tenant as MCP tools over stdio')
    .option('--project <dir>', 'the project folder to serve (default: the current directory)')
    .addOption(new Option('--tenant <name>', 'assert the tenant the project must belong to: every call is denied wrong_tenant otherwise').env('OUTLOOP_TENANT'))
    .addHelpText('after', `
stdout carries the MCP protocol only; diagnostics go to stderr. From a folder with no tenant (or with a
tenant asserted that is not the folder's) the server offers no tools and says why, in its instructions and
on stderr.

Examples:
  $ outloop init --agent claude-code          # writes .mcp.json for this project
  $ outloop mcp --project ~/clients/acme-web --tenant acme`)
    .action(async (o) => {
      set(await mcpCommand(o, opts));
    });

  program
    .command('doctor')
    .description('report this project\'s tenant, whether its backends answer, and what is unsafe for agents (reads no secret)')
    .option('--json', 'machine-readable')
    .addHelpText('after', '\nEach finding is ok, warn or fail, with a fix. Exit 0 when nothing fails, 1 otherwise.')
    .action(async (o) => {
      json = Boolean(o.json);
      set(await doctorCommand(o, opts));
    });

  program
    .command('demo')
    .description('show the main job end to end in a temporary home: store, policy, curl, redaction, audit')
    .action(async () => {
      set(await demoCommand(opts));
    });

  // Listed here so personal mode says what it is for rather than "unknown command" (the system-mode
  // client sends it to outloopd, which registers the session).
  program
    .command('session')
    .description('system mode: run an agent as a session bound to one tenant (sudo outloop session --tenant T -- CMD)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      set(printError(new UsageError('outloop session binds an agent to a tenant through outloopd, and this machine is in personal mode (no system install)',
        { next: 'Install system mode (sudo outloop system install), or bind by folder here: run the agent in the tenant\'s project, or pass --tenant.' }), false));
    });

  const system = program.command('system').description('system mode: the broker as a daemon under its own user (root only)');
  system
    .command('install')
    .description('create the daemon user, the folders, the systemd unit (idempotent)')
    .option('--prefix <dir>', 'root every system path in this folder (side-by-side installs, tests)')
    .option('--user <name>', 'the daemon\'s user', 'outloop')
    .action(async (o) => set(await systemCommands.systemInstallCommand(o, opts)));
  system
    .command('uninstall')
    .description('remove the unit, the socket and the install marker (config, store and audit log kept unless --purge)')
    .option('--prefix <dir>', 'the prefix given to install')
    .option('--purge', 'also remove the config, the daemon\'s state (its store) and the audit log')
    .action(async (o) => set(await systemCommands.systemUninstallCommand(o)));
  system
    .command('import')
    .description('move a personal home\'s local store (re-encrypted under the daemon\'s key) and, into a starter system config, its config and recipes')
    .argument('[home]', 'an OUTLOOP_HOME folder or a user\'s home (default: the sudo caller\'s)')
    .option('--prefix <dir>', 'the prefix given to install')
    .action(async (home: string | undefined, o) => set(await systemCommands.systemImportCommand(home, o)));

  program
    .command('schema')
    .description('print the JSON Schema of recipe files or config.yaml (for editors)')
    .argument('<which>', 'recipe | config')
    .action(async (which: string) => {
      set(await schemaCommand(which));
    });

  program
    .command('completion')
    .description('print a shell completion script: commands, options, and the services, recipes and parameters granted here')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: (typeof SHELLS)[number]) => {
      process.stdout.write(completionScript(shell));
      set(0);
    });
  // What the completion scripts call at each TAB; not for people.
  program
    .command('__complete', { hidden: true })
    .requiredOption('--line <text>', 'the command line up to the cursor')
    .action(async (o: { line: string }) => {
      const words = await complete(program, o.line, opts);
      if (words.length) process.stdout.write(`${words.join('\n')}\n`);
      set(0);
    });

  addExamples(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : Exit.usage;
    return printError(err, json);
  }
  return exitCode;
}
