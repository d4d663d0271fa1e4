import { Exit, OutloopError } from '../errors.js';
import type { Surface } from '../recipe/schema.js';
import { makeSentinel } from './sentinel.js';
import type { PlaceholderSecret } from './substitute.js';

const DEFAULT_SURFACES: Surface[] = ['header', 'basic'];

/**
 * The run's placeholder secrets, once the values are read: a fresh sentinel for each, the hosts of the
 * service it belongs to, and the surfaces its recipe file lists (header and basic by default). A value
 * too short to stand in for is an error, never a silent fallback to the real value.
 */
export function placeholderSecrets(
  read: { name: string; value: string }[],
  owners: Record<string, string>,
  nets: ReadonlyMap<string, { hosts: string[]; surfaces: Record<string, Set<string>>; sign?: 'aws-sigv4' }>,
): PlaceholderSecret[] {
  const out: PlaceholderSecret[] = [];
  for (const s of read) {
    const service = owners[s.name];
    if (service === undefined) continue;
    const net = nets.get(service)!;
    const made = makeSentinel(s.value);
    if (!made.ok) {
      throw new OutloopError('placeholder_impossible', Exit.config, `${s.name} cannot go as a placeholder: ${made.why}`, {
        next: `Drop placeholder: true (or --placeholders) for ${service}, or bind a longer credential.`,
      });
    }
    const listed = net.surfaces[s.name];
    // A SigV4 secret key never travels: it only signs, and the proxy re-signs with the real one.
    const signKey = net.sign === 'aws-sigv4' && s.name === 'AWS_SECRET_ACCESS_KEY';
    const surfaces = new Set((listed ? [...listed] : signKey ? [] : DEFAULT_SURFACES) as Surface[]);
    out.push({ name: s.name, service, sentinel: made.sentinel, value: s.value, hosts: net.hosts, surfaces, ...(net.sign ? { sign: net.sign } : {}) });
  }
  return out;
}
