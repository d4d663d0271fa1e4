import type { EgressRecord, EgressRefusal } from './proxy.js';

/**
 * What the agent and the person are told when the egress proxy refused a connection or could not make
 * it. The child only sees a bare 403 or 502 (curl: "CONNECT tunnel failed, response 403"), so outloop says
 * why after the run: on stderr, in --json as `network`, and in MCP results. Pure: records in, notes out.
 */
export interface NetworkNote {
  host: string;
  port: number;
  /** A machine code an agent can branch on. */
  code: `egress_${EgressRefusal}`;
  reason: string;
  next: string;
  /** How many connections ended this way (a retrying client makes several). */
  count: number;
}

export interface NoteContext {
  /** `service.recipe` (or the services of a run). */
  label: string;
  hosts: readonly string[];
  /** The recipe file, where hosts are changed. */
  source?: string | undefined;
}

const MAX_NOTES = 5;

export function networkNotes(records: readonly EgressRecord[], ctx: NoteContext): NetworkNote[] {
  const notes = new Map<string, NetworkNote>();
  for (const r of records) {
    if (!r.refusal) continue;
    const key = `${r.refusal}\0${r.host}\0${r.port}`;
    const seen = notes.get(key);
    if (seen) {
      seen.count++;
      continue;
    }
    if (notes.size >= MAX_NOTES) continue;
    notes.set(key, { host: r.host, port: r.port, code: `egress_${r.refusal}`, reason: reasonOf(r), next: nextOf(r, ctx), count: 1 });
  }
  return [...notes.values()];
}

const where = (ctx: NoteContext) => (ctx.source ? ` in ${ctx.source}` : '');
const hostPort = (r: EgressRecord) => `${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;

function reasonOf(r: EgressRecord): string {
  const what = r.refusal === 'upstream_failed' ? `the connection to ${hostPort(r)}${r.ip ? ` (${r.ip})` : ''} failed` : `egress to ${hostPort(r)} was refused`;
  return `${what}: ${r.reason ?? r.refusal}`;
}

function nextOf(r: EgressRecord, ctx: NoteContext): string {
  switch (r.refusal) {
    case 'not_allowed':
      return `If ${ctx.label} really needs ${hostPort(r)}, ask a person to add it to hosts${where(ctx)} (allowed now: ${ctx.hosts.join(', ') || 'none'}); otherwise call the host the recipe is for.`;
    case 'does_not_resolve':
      return `Check the host name and this machine's DNS (try: getent hosts ${r.host}); nothing was sent.`;
    case 'private_address':
      return `${r.host} points inside this network (${r.ip}). If that is intended, ask a person to add "${r.ip?.includes(':') ? `[${r.ip}]` : r.ip}:${r.port}" to hosts${where(ctx)}.`;
    case 'upstream_failed':
      return `Check that ${r.host} is up and that this machine can reach it on port ${r.port}, then retry.`;
    case 'not_proxy_request':
      return 'Only HTTP(S) through the proxy in HTTPS_PROXY leaves the sandbox; use a client that honours it.';
    case 'run_over':
    default:
      return 'The run had ended; retry the request.';
  }
}

/** The notes as stderr lines, in the shape of outloop's other errors. */
export function formatNotes(notes: readonly NetworkNote[]): string {
  return notes.map((n) => `outloop: network: ${n.reason}${n.count > 1 ? ` (${n.count} times)` : ''} [${n.code}]\nnext: ${n.next}\n`).join('');
}
