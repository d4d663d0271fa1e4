import { join } from 'node:path';
import type { BrokerDeps } from '../broker/exec.js';
import { resolveHomes } from '../paths.js';
import { createRegistry } from '../secrets/registry.js';
import type { CliOptions } from './main.js';

/** The real world, for commands run from the command line. Tests build their own BrokerDeps. */
export function cliDeps(opts: CliOptions, output: BrokerDeps['output']): BrokerDeps {
  const homes = resolveHomes(process.env);
  return {
    homes,
    env: process.env,
    cwd: process.cwd(),
    builtinRecipesDir: join(opts.packageRoot, 'recipes'),
    output,
    backends: (storeKey) =>
      createRegistry({ env: process.env, stateDir: homes.stateDir, storeFile: homes.storeFile, storeKeyFile: homes.storeKeyFile, storeKey }),
  };
}
