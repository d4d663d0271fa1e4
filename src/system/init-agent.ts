import { dirname, join } from 'node:path';
import { realpathSync } from 'node:fs';
import { AGENT_CLIENTS, codexServerName, codexSnippet, launcher, mergeMcpJson, type AgentClient } from '../mcp/agents.js';
import { DEFAULT_SOCKET } from './client.js';

/**
 * `outloop init --agent CLIENT` on a machine with a system install. It runs in the client, as the person:
 * it writes only the agent's MCP entry in the project (the same `outloop mcp`, which finds the daemon
 * itself) and says how to start the agent bound to a tenant. No config is written: policy lives in
 * /etc/outloop, changed by root.
 */
export function initAgentSystem(argv: string[], socket: string): number {
  const at = argv.findIndex((a) => a === '--agent' || a.startsWith('--agent='));
  const client = (argv[at]!.includes('=') ? argv[at]!.slice('--agent='.length) : argv[at + 1]) as AgentClient;
  if (!AGENT_CLIENTS.includes(client)) {
    process.stderr.write(`outloop: --agent must be one of ${AGENT_CLIENTS.join(', ')} [usage]\n`);
    return 64;
  }
  let project = process.cwd();
  try {
    project = realpathSync(project);
  } catch {
    /* keep it as given */
  }
  // bin/outloop.js started this client: its package root, for the absolute launcher when outloop is off PATH.
  const { entry, warning } = launcher(process.env, dirname(dirname(realpathSync(process.argv[1]!))));
  if (warning) process.stderr.write(`outloop: warning: ${warning}\n`);
  const out: string[] = [];
  if (client === 'codex') {
    out.push('Codex keeps MCP servers in ~/.codex/config.toml, which outloop does not edit. Add:', '', codexSnippet(codexServerName(undefined, project), entry, project).trimEnd());
  } else {
    const file = client === 'claude-code' ? join(project, '.mcp.json') : join(project, '.cursor', 'mcp.json');
    const what = mergeMcpJson(file, entry);
    out.push(what === 'unchanged' ? `${file} already starts outloop; nothing changed.` : `${what === 'created' ? 'Wrote' : 'Added outloop to'} ${file} (server "outloop": outloop mcp, a client of outloopd).`);
  }
  const agentCmd = client === 'claude-code' ? 'claude' : client;
  out.push(
    '',
    'System mode: outloopd holds the secrets under its own user; the agent\'s user cannot read its store or change its policy.',
    `Start the agent bound to this project's tenant (a person, with sudo): sudo outloop session --tenant TENANT -- ${agentCmd}`,
  );
  if (socket !== DEFAULT_SOCKET) out.push(`The daemon's socket is not the default: give the agent OUTLOOP_SOCKET=${socket} in its environment.`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
