import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Homes } from '../paths.js';

/**
 * `outloop init --agent CLIENT`: register `outloop mcp` with an agent client for one project, and print
 * the permission rules that let the agent call outloop but not read secrets around it.
 */
export const AGENT_CLIENTS = ['claude-code', 'cursor', 'codex'] as const;
export type AgentClient = (typeof AGENT_CLIENTS)[number];

export const SERVER_ENTRY = { command: 'outloop', args: ['mcp'] } as const;

/** Merge {"mcpServers":{"outloop":...}} into a JSON config file, keeping every other key and server. */
export function mergeMcpJson(file: string): 'created' | 'updated' | 'unchanged' {
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
  if (before === JSON.stringify(SERVER_ENTRY)) return 'unchanged';
  doc.mcpServers = { ...(servers as Record<string, unknown>), outloop: { ...SERVER_ENTRY, args: [...SERVER_ENTRY.args] } };
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
  return {
    allow: ['mcp__outloop__*', 'Bash(outloop exec:*)', 'Bash(outloop check:*)', 'Bash(outloop recipes list:*)'],
    deny: [
      ...secretDirs(homes, env).map((d) => `Read(${d.startsWith('~') ? d : `/${d}`}/**)`),
      'Read(./.env)',
      'Read(./.env.*)',
      'Bash(outloop secrets:*)',
    ],
  };
}

export function codexSnippet(project: string): string {
  return `[mcp_servers.outloop]\ncommand = "outloop"\nargs = ["mcp", "--project", ${JSON.stringify(project)}]\n`;
}

/** Do the client's part of init and return what to print. */
export function setUpAgent(client: AgentClient, project: string, homes: Homes, env: NodeJS.ProcessEnv, _o: { tenant?: string | undefined } = {}): string[] {
  const out: string[] = [];
  const dirs = secretDirs(homes, env);
  if (client === 'claude-code' || client === 'cursor') {
    const file = client === 'claude-code' ? join(project, '.mcp.json') : join(project, '.cursor', 'mcp.json');
    const what = mergeMcpJson(file);
    out.push(what === 'unchanged' ? `${file} already starts outloop; nothing changed.` : `${what === 'created' ? 'Wrote' : 'Added outloop to'} ${file} (server "outloop": outloop mcp).`);
  }
  if (client === 'claude-code') {
    const perms = claudeCodePermissions(homes, env);
    out.push(
      '',
      'Let Claude Code call outloop but not read secrets another way: merge into .claude/settings.json',
      '(shared) or .claude/settings.local.json (yours):',
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
    out.push(
      'Codex keeps MCP servers in ~/.codex/config.toml, which outloop does not edit. Add:',
      '',
      codexSnippet(project),
      'Keep secrets out of Codex\'s reach: run it with its workspace sandbox (the default), keep',
      `${dirs.join(' and ')} outside the workspace, and do not approve commands that read .env files.`,
    );
  }
  out.push(
    '',
    `The local store's key is a file when config.yaml says storeKey: file; prefer keychain (or auto) on a desktop, so reading ${dirs.join(' and ')} yields nothing usable.`,
  );
  return out;
}
