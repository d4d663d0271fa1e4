import { join } from 'node:path';
import type { BrokerDeps } from '../broker/exec.js';
import type { Environment } from '../broker/context.js';
import { resolveHomes, type Homes } from '../paths.js';
import type { BackendRegistry } from '../secrets/backend.js';
import { createRegistry } from '../secrets/registry.js';
import type { CliOptions } from './main.js';

/** The real world a command runs in: homes from the environment, this process's cwd and env. */
export function cliEnvironment(opts: CliOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Environment {
  return { homes: resolveHomes(env), env, cwd, builtinRecipesDir: join(opts.packageRoot, 'recipes') };
}

/** The secret backends for one set of homes; the local store's key location comes from config. */
export function registryFor(homes: Homes, env: NodeJS.ProcessEnv, storeKey: 'auto' | 'keychain' | 'file'): BackendRegistry {
  return createRegistry({ env, stateDir: homes.stateDir, storeFile: homes.storeFile, storeKeyFile: homes.storeKeyFile, storeKey });
}

/** Broker dependencies for a command run from the command line. Tests build their own BrokerDeps. */
export function cliDeps(opts: CliOptions, output: BrokerDeps['output']): BrokerDeps {
  const e = cliEnvironment(opts);
  return { ...e, output, backends: (storeKey) => registryFor(e.homes, e.env, storeKey) };
}
