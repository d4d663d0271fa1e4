import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { cliEnvironment, registryFor } from '../cli/deps.js';
import type { CliOptions } from '../cli/main.js';
import { UsageError } from '../errors.js';

/**
 * `outloop mcp [--project DIR]`. The MCP SDK is loaded only here, behind its own dynamic import, so the
 * other cold commands do not pay for it.
 */
export async function mcpCommand(o: { project?: string; tenant?: string }, opts: CliOptions): Promise<number> {
  const cwd = o.project === undefined ? process.cwd() : resolve(o.project);
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`--project ${o.project}: not a directory`, { next: 'Pass the project folder the agent works in.' });
  const env = cliEnvironment(opts, process.env, cwd);
  const { serveMcp } = await import('./server.js');
  // As exec does: an empty --tenant / OUTLOOP_TENANT asserts nothing.
  const assertedTenant = o.tenant === undefined || o.tenant === '' ? undefined : o.tenant;
  await serveMcp({ env, backends: (storeKey) => registryFor(env.homes, env.env, storeKey), ...(assertedTenant ? { assertedTenant } : {}) });
  return 0;
}
