// The client bundle's entry (dist/client.cjs): what bin/outloop.js loads in system mode, and nothing more.
export { runClient } from './client.js';
export { prepareSession } from './session.js';
export { encodeFrame } from './protocol.js';
/** `init --agent` in system mode: written locally, as the person (see init-agent.ts). */
export async function initAgent(argv: string[], socket: string): Promise<number> {
  const { initAgentSystem } = await import('./init-agent.js');
  return initAgentSystem(argv, socket);
}
