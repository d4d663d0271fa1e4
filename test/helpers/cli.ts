import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI, run as a user would: `node bin/outloop.js ...` */
export const BIN = resolve('bin/outloop.js');
export const PACKAGE_ROOT = resolve('.');

export interface Sandbox {
  root: string;
  home: string;
  /** Project folders by tenant name. */
  projects: Record<string, string>;
  env: NodeJS.ProcessEnv;
  writeConfig(yaml: string): void;
  writeRecipe(service: string, yaml: string): void;
  run(args: string[], opts?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  runAsync(args: string[], opts?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }>;
  cleanup(): void;
}

/** A throwaway OUTLOOP_HOME with one project folder per tenant. */
export function makeSandbox(tenants: string[] = ['acme', 'globex']): Sandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-test-')));
  const home = join(root, 'home');
  mkdirSync(join(home, 'recipes'), { recursive: true });
  const projects = Object.fromEntries(
    tenants.map((t) => {
      const p = join(root, 'clients', t);
      mkdirSync(p, { recursive: true });
      return [t, p];
    }),
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', OUTLOOP_HOME: home, HOME: join(root, 'userhome') };
  mkdirSync(env.HOME!, { recursive: true });
  const first = Object.values(projects)[0] ?? root;
  return {
    root,
    home,
    projects,
    env,
    writeConfig: (yaml) => writeFileSync(join(home, 'config.yaml'), yaml),
    writeRecipe: (service, yaml) => writeFileSync(join(home, 'recipes', `${service}.yaml`), yaml),
    run: (args, o = {}) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? first, env: { ...env, ...o.env }, input: o.input ?? '', encoding: 'utf8', timeout: 60_000 }),
    runAsync: (args, o = {}) =>
      new Promise((res) => {
        const c = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? first, env: { ...env, ...o.env } });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.stderr.on('data', (d) => (stderr += d));
        c.stdin.end(o.input ?? '');
        c.on('close', (status) => res({ status, stdout, stderr }));
      }),
    // Retried: a child that was just stopped (a tmux pane's outloop run) may still be removing its run folder.
    cleanup: () => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }),
  };
}
