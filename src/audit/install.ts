import { hmacSha256 } from '../digest.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Homes } from '../paths.js';
import { systemContext } from '../system/mode.js';
import { deriveChainKey } from './chain.js';
import { installKey } from './fingerprint.js';
import { AuditLog, type AuditLogOptions } from './log.js';

/**
 * The audit log as a local install keeps it: the chain keyed under a key derived from the install key
 * (audit.key in the state folder), the head beside the log, and a copy to journald or syslog. In personal
 * mode the key sits in the state folder, which the agent's own user can read: the keyed chain then shows
 * accidents and edits by other users, not a hostile agent. The daemon (system mode) builds the same
 * options from its own state folder, which the agent cannot read.
 */
export function auditLogOptions(stateDir: string, auditFile: string): AuditLogOptions {
  return { chainKey: () => chainKeyFor(stateDir, auditFile), journal: true, context: callerFields };
}

/**
 * In the daemon's worker, who asked, as the kernel said (SO_PEERCRED) and the session it is bound to:
 * on every record, the same fields the daemon's own records carry. Read at each append, since a spare
 * opens its log before it knows its caller.
 */
function callerFields(): Record<string, unknown> | undefined {
  const ctx = systemContext();
  if (!ctx) return undefined;
  return { peer: { uid: ctx.peer.uid, gid: ctx.peer.gid, pid: ctx.peer.pid }, ...(ctx.sessionRoot !== undefined ? { session: ctx.sessionRoot } : {}) };
}

export function openAuditLog(homes: Pick<Homes, 'stateDir' | 'auditFile'>): AuditLog {
  if (opened && opened.homes.auditFile === homes.auditFile && opened.homes.stateDir === homes.stateDir) return opened.log;
  return new AuditLog(homes.auditFile, auditLogOptions(homes.stateDir, homes.auditFile));
}

let opened: { homes: Pick<Homes, 'stateDir' | 'auditFile'>; log: AuditLog } | undefined;

/**
 * For a process that waits for its one request (the daemon's spare worker): the log its records go to,
 * opened now, with the chain key read and the journal's addon loaded, so the request's first record
 * does not pay for them. Only a key that exists is read: none is made ahead of a request.
 */
export function openAuditLogAhead(homes: Pick<Homes, 'stateDir' | 'auditFile'>): void {
  const log = openAuditLog(homes);
  if (existsSync(join(homes.stateDir, 'audit.key'))) log.prepare();
  opened = { homes: { stateDir: homes.stateDir, auditFile: homes.auditFile }, log };
}

export function chainKeyFor(stateDir: string, auditFile: string): Buffer {
  return deriveChainKey(installKey(stateDir, { auditFile }));
}

/** The parse cache's MAC key (config/cache.ts), derived like the chain key: a cache entry is never a chain MAC. */
export function cacheKeyFor(stateDir: string, auditFile: string): Buffer {
  return hmacSha256(installKey(stateDir, { auditFile }), 'outloop parse cache v1');
}

/** The chain key for reading only: undefined when there is no install key, and none is made by asking. */
export function existingChainKey(stateDir: string, auditFile: string): Buffer | undefined {
  return existsSync(join(stateDir, 'audit.key')) ? chainKeyFor(stateDir, auditFile) : undefined;
}
