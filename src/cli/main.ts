import { Command, CommanderError, Option } from 'commander';
import { Exit } from '../errors.js';
import { printError } from './output.js';
import { collectParam } from './params.js';
// The hot path is part of the main bundle; every other command is a chunk loaded on use.
import { checkCommand, execCommand } from './exec.js';

/**
 * The command line. Each command's code is imported only when that command runs, so `outloop exec`
 * (called thousands of times by a loop) loads nothing it does not use.
 */
export interface CliOptions {
  /** The installed package's root (holds recipes/ and schema/). */
  packageRoot: string;
}

const VERSION = '0.1.0';

export async function main(argv: string[], opts: CliOptions): Promise<number> {
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
77 denied by policy; 78 invalid config or recipe; 124 timed out; 127 command not found.

Examples:
  $ outloop exec stripe.list-invoices -p limit=5
  $ outloop check stripe.list-invoices -p limit=5
  $ printf %s "$KEY" | outloop secrets set local:acme/stripe
  $ outloop demo`,
  );

  const tenantOption = () => new Option('--tenant <name>', 'assert the tenant this project must belong to').env('OUTLOOP_TENANT');

  // Only the invoked command is registered (all of them for help or an unknown word): commander's
  // set-up for every command is measurable on each of the thousands of calls a loop makes.
  const registrations: Record<string, () => void> = {
    exec: () => {
      program
        .command('exec')
        .description('run an approved recipe: check policy, read the secret, run, redact, audit')
        .argument('<service.recipe>', 'what to run, e.g. stripe.list-invoices')
        .option('-p, --param <name=value>', 'a recipe parameter (repeatable)', collectParam, {})
        .addOption(tenantOption())
        .option('--json', 'print one JSON object (ok, decision, exitCode, stdout, stderr, redactions, auditId)')
        .option('--dry-run', 'show the command that would run, secrets as [SECRET:NAME]; read no secret')
        .action(async (target: string, o) => {
          json = Boolean(o.json);
          set(await execCommand(target, o, opts));
        });
    },
    check: () => {
      program
        .command('check')
        .description('explain the policy decision gate by gate; never touches a secret backend (exit 0 allowed, 77 denied)')
        .argument('<service.recipe>')
        .option('-p, --param <name=value>', 'a recipe parameter (repeatable)', collectParam, {})
        .addOption(tenantOption())
        .option('--json', 'print the decision and every gate as JSON')
        .action(async (target: string, o) => {
          json = Boolean(o.json);
          set(await checkCommand(target, o, opts));
        });
    },
    recipes: () => {
      const recipes = program.command('recipes').description('what exists, what is granted here, and what is wrong with a file');
      recipes
        .command('list')
        .description('every recipe, and whether this project\'s tenant may run it')
        .option('--json', 'machine-readable')
        .action(async (o) => {
          json = Boolean(o.json);
          const m = (await import('../cold.js')).recipesCommands;
          set(await m.listCommand(o, opts));
        });
      recipes
        .command('show')
        .description('a service\'s recipes: parameters, risk, hosts, source file')
        .argument('<service>')
        .option('--json', 'machine-readable')
        .action(async (service: string, o) => {
          json = Boolean(o.json);
          const m = (await import('../cold.js')).recipesCommands;
          set(await m.showCommand(service, o, opts));
        });
      recipes
        .command('lint')
        .description('check recipe files without running anything (file:line:col errors, exit 78)')
        .argument('[files...]', 'files to check (default: every recipe folder)')
        .option('--json', 'machine-readable')
        .action(async (files: string[], o) => {
          json = Boolean(o.json);
          const m = (await import('../cold.js')).recipesCommands;
          set(await m.lintCommand(files, o, opts));
        });
    },
    secrets: () => {
      const secrets = program.command('secrets').description('write, list and remove stored secrets (never prints a value)');
      secrets
        .command('set')
        .description('store a value read from stdin or a hidden prompt (never from the command line)')
        .argument('<ref>', 'where to store it, e.g. local:acme/stripe')
        .argument('[value...]')
        .action(async (ref: string, rest: string[]) => {
          const m = (await import('../cold.js')).secretsCommands;
          set(await m.setCommand(ref, rest, opts));
        });
      secrets
        .command('list')
        .description('the references in the local store, and which grants use them')
        .option('--json', 'machine-readable')
        .action(async (o) => {
          json = Boolean(o.json);
          const m = (await import('../cold.js')).secretsCommands;
          set(await m.listCommand(o, opts));
        });
      secrets
        .command('rm')
        .description('remove a stored value')
        .argument('<ref>')
        .action(async (ref: string) => {
          const m = (await import('../cold.js')).secretsCommands;
          set(await m.rmCommand(ref, opts));
        });
    },
    audit: () => {
      const audit = program
        .command('audit')
        .description('read the audit trail (a table; --json for one record per line)')
        .option('--json', 'one JSON record per line')
        .option('--follow', 'keep printing new records as they are written')
        .option('-n, --limit <n>', 'only the last N attempts', (v) => Number.parseInt(v, 10))
        .action(async (o) => {
          json = Boolean(o.json);
          const m = (await import('../cold.js')).auditCommands;
          set(await m.showCommand(o));
        });
      audit
        .command('verify')
        .description('check the hash chain; names the first bad record (exit 1 if broken)')
        .option('--json', 'machine-readable')
        .action(async (_o, cmd: Command) => {
          // `audit` has its own --json; commander hands the flag to the parent wherever it appears.
          const o = cmd.optsWithGlobals();
          json = Boolean(o.json);
          const m = (await import('../cold.js')).auditCommands;
          set(await m.verifyCommand(o));
        });
    },
    init: () => {
      program
        .command('init')
        .description('write a commented starter config.yaml and an example recipe')
        .option('--tenant <name>', 'bind the current directory to this tenant')
        .option('--force', 'overwrite an existing config.yaml')
        .action(async (o) => {
          const m = await import('../cold.js');
          set(await m.initCommand(o, opts));
        });
    },
    demo: () => {
      program
        .command('demo')
        .description('show the main job end to end in a temporary home: store, policy, curl, redaction, audit')
        .action(async () => {
          const m = await import('../cold.js');
          set(await m.demoCommand(opts));
        });
    },
    schema: () => {
      program
        .command('schema')
        .description('print the JSON Schema of recipe files or config.yaml (for editors)')
        .argument('<which>', 'recipe | config')
        .action(async (which: string) => {
          const m = await import('../cold.js');
          set(await m.schemaCommand(which));
        });
    },
  };
  const invoked = argv[0] !== undefined && Object.hasOwn(registrations, argv[0]) ? [argv[0]] : Object.keys(registrations);
  for (const name of invoked) registrations[name]!();

  // A crash still ends as one clear line and a contract exit code (70), never a raw stack trace.
  const crash = (err: unknown) => process.exit(printError(err, json));
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : Exit.usage;
    return printError(err, json);
  }
  return exitCode;
}
