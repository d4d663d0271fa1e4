// The client bundle's entry (dist/client.cjs): what bin/outloop.js loads in system mode, and nothing more.
export { runClient } from './client.js';
export { encodeFrame } from './protocol.js';
/** `init --agent` in system mode: written locally, as the person (see init-agent.ts). */
export async function initAgent(argv: string[], socket: string): Promise<number> {
  const { initAgentSystem } = await import('./init-agent.js');
  return initAgentSystem(argv, socket);
}
/** `sudo outloop session`: loaded only for it, so an agent's every call stays node:net and the protocol. */
export async function prepareSession(argv: string[], packageRoot: string): Promise<{ argv: string[]; error?: string }> {
  const { prepareSession: prepare } = await import('./session.js');
  return prepare(argv, packageRoot);
}
