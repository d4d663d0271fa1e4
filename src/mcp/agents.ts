import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, relative, isAbsolute } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Homes } from '../paths.js';

/**
 * `outloop init --agent CLIENT`: register `outloop mcp` with an agent client for one project, and print
 * the permission rules that let the agent call outloop but not read secrets around it.
 */
export const AGENT_CLIENTS = ['claude-code', 'cursor', 'codex'] as const;
export type AgentClient = (typeof AGENT_CLIENTS)[number];

/** How a client starts the server: `outloop` when it is on PATH, else node and this install's bin script. */
export interface ServerEntry {
  command: string;
  args: string[];
}

/** An executable named `name` in one of PATH's folders, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The launcher to write. A client starts servers with its own environment, often not the shell's: a bare
 * "outloop" that is not on PATH would fail there with a vague "server failed to start". Off PATH, the
 * absolute paths of node and this install's bin/outloop.js are written, with a warning saying so.
 */
export function launcher(env: NodeJS.ProcessEnv, packageRoot: string): { entry: ServerEntry; warning?: string } {
  if (onPath('outloop', env)) return { entry: { command: 'outloop', args: ['mcp'] } };
  const bin = join(packageRoot, 'bin', 'outloop.js');
  return {
    entry: { command: process.execPath, args: [bin, 'mcp'] },
    warning: `outloop is not on PATH, so the absolute paths of node (${process.execPath}) and ${bin} were written; after \`npm install -g outloop\`, run this again to write the bare name.`,
  };
}

/** Merge {"mcpServers":{"outloop": entry}} into a JSON config file, keeping every other key and server. */
export function mergeMcpJson(file: string, entry: ServerEntry): 'created' | 'updated' | 'unchanged' {
  let doc: Record<string, unknown> = {};
  const existed = existsSync(file);
  if (existed) {
    const text = readFileSync(file, 'utf8');
    try {
      doc = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch (err) {
      throw new UsageError(`${file} is not valid JSON (${(err as Error).message}); nothing was changed`, { code: 'invalid_json', next: 'Fix the file, or move it aside, and run this again.' });
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${file} does not hold a JSON object; nothing was changed`, { code: 'invalid_json' });
  }
  const servers = doc.mcpServers ?? {};
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) throw new UsageError(`${file}: "mcpServers" is not an object; nothing was changed`, { code: 'invalid_json' });
  const before = JSON.stringify((servers as Record<string, unknown>).outloop);
  if (before === JSON.stringify(entry)) return 'unchanged';
  doc.mcpServers = { ...(servers as Record<string, unknown>), outloop: entry };
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`, 0o644);
  return existed ? 'updated' : 'created';
}

function tilde(p: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  const rel = relative(home, p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `~/${rel}` : p;
}

/** Where secrets or their keys live: the folders an agent must not read. */
function secretDirs(homes: Homes, env: NodeJS.ProcessEnv): string[] {
  return [...new Set([homes.configDir, homes.stateDir].map((d) => tilde(d, env)))];
}

export function claudeCodePermissions(homes: Homes, env: NodeJS.ProcessEnv): { allow: string[]; deny: string[] } {
  const dirs = secretDirs(homes, env).map((d) => (d.startsWith('~') ? d : `/${d}`));
  return {
    allow: ['mcp__outloop__*', 'Bash(outloop exec:*)', 'Bash(outloop check:*)', 'Bash(outloop recipes list:*)'],
    deny: [
      // Reading a folder yields the store and its key; editing it rewrites the grants or the recipes.
      ...dirs.flatMap((d) => ['Read', 'Edit', 'Write', 'MultiEdit'].map((tool) => `${tool}(${d}/**)`)),
      'Read(./.env)',
      'Read(./.env.*)',
      'Bash(outloop secrets:*)',
      'Bash(outloop grant:*)',
      'Bash(outloop revoke:*)',
      'Bash(outloop tenant:*)',
      'Bash(outloop approve:*)',
    ],
  };
}

/** A TOML table name part: the tenant (or the folder's name) reduced to [a-z0-9_-]. */
export function codexServerName(tenant: string | undefined, project: string): string {
  const base = (tenant ?? basename(project)).toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return `outloop-${base || 'project'}`;
}

export function codexSnippet(name: string, entry: ServerEntry, project: string): string {
  const args = [...entry.args, '--project', project];
  return `[mcp_servers.${name}]\ncommand = ${JSON.stringify(entry.command)}\nargs = [${args.map((a) => JSON.stringify(a)).join(', ')}]\n`;
}

/** Add the outloop table to a project's .codex/config.toml (created if missing); an existing one is kept. */
function writeCodexProjectConfig(file: string, snippet: string, name: string): 'created' | 'updated' | 'unchanged' {
  const existed = existsSync(file);
  const text = existed ? readFileSync(file, 'utf8') : '';
  if (text.split(/\r?\n/).some((l) => l.trim() === `[mcp_servers.${name}]`)) return 'unchanged';
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : ''}${snippet}`, 0o644);
  return existed ? 'updated' : 'created';
}

export interface AgentSetup {
  /** The project's tenant, when it has one: names the Codex server. */
  tenant?: string | undefined;
  /** The installed package's root, for the absolute launcher when outloop is not on PATH. */
  packageRoot: string;
}

/** Do the client's part of init and return what to print (and warnings, for stderr). */
export function setUpAgent(client: AgentClient, project: string, homes: Homes, env: NodeJS.ProcessEnv, o: AgentSetup): { out: string[]; warnings: string[] } {
  const out: string[] = [];
  const warnings: string[] = [];
  const dirs = secretDirs(homes, env);
  const { entry, warning } = launcher(env, o.packageRoot);
  if (warning) warnings.push(warning);
  if (client === 'claude-code' || client === 'cursor') {
    // Claude Code starts project servers in the project; Cursor may not, so it is told the folder.
    const e = client === 'cursor' ? { ...entry, args: [...entry.args, '--project', project] } : entry;
    const file = client === 'claude-code' ? join(project, '.mcp.json') : join(project, '.cursor', 'mcp.json');
    const what = mergeMcpJson(file, e);
    out.push(what === 'unchanged' ? `${file} already starts outloop; nothing changed.` : `${what === 'created' ? 'Wrote' : 'Added outloop to'} ${file} (server "outloop": ${[e.command, ...e.args].join(' ')}).`);
  }
  if (client === 'claude-code') {
    const perms = claudeCodePermissions(homes, env);
    out.push(
      '',
      'Let Claude Code call outloop but neither read nor edit its secrets and grants another way: merge into',
      '.claude/settings.json (shared) or .claude/settings.local.json (yours):',
      '',
      JSON.stringify({ permissions: perms }, null, 2),
    );
  } else if (client === 'cursor') {
    out.push(
      '',
      'Keep secrets out of Cursor\'s reach:',
      '  - add .env and .env.* to .cursorignore in this project;',
      `  - leave auto-run off for terminal commands except \`outloop exec\` and \`outloop check\`;`,
      `  - never open ${dirs.join(' or ')} in the workspace.`,
    );
  } else {
    // Codex reads a trusted project's .codex/config.toml; the global file is shared by every project, so
    // a table there is named after the tenant, and two clients never collide.
    const name = codexServerName(o.tenant, project);
    const file = join(project, '.codex', 'config.toml');
    const what = writeCodexProjectConfig(file, codexSnippet('outloop', entry, project), 'outloop');
    out.push(
      what === 'unchanged' ? `${file} already has [mcp_servers.outloop]; nothing changed.` : `${what === 'created' ? 'Wrote' : 'Added outloop to'} ${file} ([mcp_servers.outloop]).`,
      'Codex reads a project\'s .codex/config.toml only once you trust the project. Otherwise add this to',
      '~/.codex/config.toml (named for this tenant, so each client\'s project gets its own server):',
      '',
      codexSnippet(name, entry, project),
      'Keep secrets out of Codex\'s reach: run it with its workspace sandbox (the default), keep',
      `${dirs.join(' and ')} outside the workspace, and do not approve commands that read .env files.`,
    );
  }
  out.push(
    '',
    `The local store's key is a file when config.yaml says storeKey: file; prefer keychain (or auto) on a desktop, so reading ${dirs.join(' and ')} yields nothing usable.`,
  );
  return { out, warnings };
}
