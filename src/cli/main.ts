import { printError } from './output.js';
import { checkCommand, execCommand } from './exec.js';
import { parseRequestLine } from './options.js';
import { VERSION } from '../version.js';
import { sweepStaleRunDirs } from '../runner/workdir.js';

/**
 * The command line's front door. An ordinary `exec` or `check` line (what an agent sends thousands of
 * times) is parsed here and run at once; everything else (help, other commands, unusual options) goes to
 * the full commander program in the lazily loaded cold chunk.
 */
export interface CliOptions {
  /** The installed package's root (holds recipes/ and schema/). */
  packageRoot: string;
}

export async function main(argv: string[], opts: CliOptions): Promise<number> {
  let json = argv.includes('--json');
  // A crash still ends as one clear line and a contract exit code (70), never a raw stack trace.
  const crash = (err: unknown) => process.exit(printError(err, json));
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  // Run folders (0600 recipe files) of an outloop killed before it could clean up go at the next start,
  // whatever the command: one readdir of the temp folder, in the event loop's first turn, which for an
  // exec is once its child is spawned (the sweep is no step of the request, and a full /tmp is slow).
  setImmediate(sweepStaleRunDirs);

  // Tools probe the version often; answer without loading the full command line.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let line;
  try {
    line = parseRequestLine(argv);
  } catch (err) {
    return printError(err, json);
  }
  if (!line) {
    const { runProgram } = await import('../cold.js');
    return runProgram(argv, opts);
  }
  json = Boolean(line.flags.json);
  try {
    return line.command === 'exec' ? await execCommand(line.target, line.flags, opts) : await checkCommand(line.target, line.flags, opts);
  } catch (err) {
    return printError(err, json);
  }
}
