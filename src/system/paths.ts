import { join } from 'node:path';
import type { Homes } from '../paths.js';

/**
 * Where a system install keeps everything, all under one prefix ("/" for a real install; tests and
 * side-by-side installs use a temporary folder). Fixed by the install, never by the caller's
 * environment: a daemon that took XDG_CONFIG_HOME or OUTLOOP_HOME from a request would let the agent
 * choose its own policy.
 */
export interface SystemPaths {
  prefix: string;
  etcDir: string;
  configFile: string;
  recipesDir: string;
  /** The install marker: present means "a system install exists; its paths win". */
  marker: string;
  stateDir: string;
  logDir: string;
  auditFile: string;
  runDir: string;
  socket: string;
  unitFile: string;
}

export const DEFAULT_PREFIX = '/';
export const DEFAULT_USER = 'outloop';

export function systemPaths(prefix: string = DEFAULT_PREFIX): SystemPaths {
  const etcDir = join(prefix, 'etc', 'outloop');
  const stateDir = join(prefix, 'var', 'lib', 'outloop');
  const logDir = join(prefix, 'var', 'log', 'outloop');
  const runDir = join(prefix, 'run', 'outloop');
  return {
    prefix,
    etcDir,
    configFile: join(etcDir, 'config.yaml'),
    recipesDir: join(etcDir, 'recipes'),
    marker: join(etcDir, 'system.json'),
    stateDir,
    logDir,
    auditFile: join(logDir, 'audit.jsonl'),
    runDir,
    socket: join(runDir, 'broker.sock'),
    unitFile: join(prefix, 'etc', 'systemd', 'system', 'outloopd.service'),
  };
}

/**
 * The broker's homes in system mode. This is the one place they are built, so what the audit log
 * needs next (its chain key under stateDir, its head file) is added here once.
 */
export function systemHomes(p: SystemPaths): Homes {
  return {
    configDir: p.etcDir,
    stateDir: p.stateDir,
    configFile: p.configFile,
    recipesDir: p.recipesDir,
    auditFile: p.auditFile,
    storeFile: join(p.stateDir, 'store.json'),
    storeKeyFile: join(p.stateDir, 'store.key'),
  };
}
