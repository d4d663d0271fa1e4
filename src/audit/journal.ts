import { existsSync } from 'node:fs';
import { loadNative } from '../native.js';
import type { AuditRecord } from './types.js';

/**
 * A copy of each audit record for the system log, where a team's log shipping already reads: journald's
 * native protocol (one datagram to /run/systemd/journal/socket), else syslog (RFC 3164 over /dev/log).
 * Best effort by design: the local hash chain is the authority, so a missing or full log socket drops
 * the copy quietly and never fails the request. The copy leaves the machine's user accounts' reach the
 * moment it is sent: a log rewritten later no longer matches what journald holds.
 */
export interface JournalOptions {
  /** journald's native socket. Default /run/systemd/journal/socket. */
  journald?: string;
  /** The syslog socket, tried when journald's is absent. Default /dev/log. */
  syslog?: string;
  /** SYSLOG_IDENTIFIER / the syslog tag. Default "outloop". */
  identifier?: string;
}

export const JOURNALD_SOCKET = '/run/systemd/journal/socket';
export const SYSLOG_SOCKET = '/dev/log';
/** authpriv: security messages, readable by administrators only on most systems. */
const FACILITY_AUTHPRIV = 10;
const PRIORITY_INFO = 6;
const PRIORITY_WARNING = 4;
/** Under the default SO_SNDBUF and journald's datagram limit; bigger records are sent as a summary. */
const MAX_DATAGRAM = 48 * 1024;

type Addon = { send(path: string, data: Buffer): number };
let addon: Addon | null | undefined;

/** The N-API addon (native/dgram), built by `npm ci`'s install step; null when it is not built. */
export function dgramAddon(): Addon | null {
  if (addon === undefined) addon = loadNative<Addon>('dgram');
  return addon;
}

export type JournalOutcome = { sent: 'journald' | 'syslog' } | { sent: false; errno?: number };

/** Errors that mean "no reader at this path": try the next socket. */
const ABSENT = new Set([2 /* ENOENT */, 111 /* ECONNREFUSED */, 20 /* ENOTDIR */, 13 /* EACCES */, 88 /* ENOTSOCK */, 91 /* EPROTOTYPE */]);

export class JournalSink {
  private readonly journald: string;
  private readonly syslog: string;
  private readonly identifier: string;
  private present: boolean | undefined;

  constructor(opts: JournalOptions = {}) {
    this.journald = opts.journald ?? JOURNALD_SOCKET;
    this.syslog = opts.syslog ?? SYSLOG_SOCKET;
    this.identifier = opts.identifier ?? 'outloop';
  }

  /** Look for the sockets, and load the addon where one exists, now rather than at the first record. */
  prepare(): void {
    if (this.socketsPresent()) dgramAddon();
  }

  send(record: AuditRecord, line: string): JournalOutcome {
    const native = this.socketsPresent() ? dgramAddon() : null;
    if (!native) return { sent: false };
    const message = line.length <= MAX_DATAGRAM ? line : summary(record);
    let errno = native.send(this.journald, journaldDatagram(record, message, this.identifier));
    if (errno === 0) return { sent: 'journald' };
    if (!ABSENT.has(errno)) return { sent: false, errno };
    errno = native.send(this.syslog, Buffer.from(syslogLine(record, message, this.identifier), 'utf8'));
    return errno === 0 ? { sent: 'syslog' } : { sent: false, errno };
  }

  /** Where neither socket exists (containers, CI) two stats spare loading the addon on every exec. */
  private socketsPresent(): boolean {
    this.present ??= existsSync(this.journald) || existsSync(this.syslog);
    return this.present;
  }
}

function priority(record: AuditRecord): number {
  return record.decision === 'allow' ? PRIORITY_INFO : PRIORITY_WARNING;
}

/** The fields a shipper can filter on without parsing MESSAGE, which holds the record's JSON line. */
export function journaldDatagram(record: AuditRecord, message: string, identifier: string): Buffer {
  const fields: [string, string][] = [
    ['MESSAGE', message],
    ['PRIORITY', String(priority(record))],
    ['SYSLOG_FACILITY', String(FACILITY_AUTHPRIV)],
    ['SYSLOG_IDENTIFIER', identifier],
    ['OUTLOOP_ID', record.id],
    ['OUTLOOP_PHASE', record.phase],
    ['OUTLOOP_DECISION', record.decision],
    ['OUTLOOP_HASH', record.hash],
  ];
  if (record.tenant) fields.push(['OUTLOOP_TENANT', record.tenant]);
  const parts: Buffer[] = [];
  for (const [key, value] of fields) {
    const v = Buffer.from(value, 'utf8');
    if (!v.includes(0x0a)) {
      parts.push(Buffer.from(`${key}=`, 'ascii'), v, Buffer.from('\n'));
      continue;
    }
    // A value with a newline: the key, a newline, its length as 64-bit little-endian, the bytes, a newline.
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(v.length));
    parts.push(Buffer.from(`${key}\n`, 'ascii'), len, v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export function syslogLine(record: AuditRecord, message: string, identifier: string, now: Date = new Date()): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const ts = `${months[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${now.toTimeString().slice(0, 8)}`;
  return `<${FACILITY_AUTHPRIV * 8 + priority(record)}>${ts} ${identifier}[${process.pid}]: ${message}`;
}

/** A record too large for one datagram: the fields that identify it and chain it, marked as cut. */
function summary(record: AuditRecord): string {
  const { ts, id, phase, mode, project, tenant, service, recipe, decision, code, exitCode, prev, hash } = record;
  return JSON.stringify({ ts, id, phase, mode, project, tenant, service, recipe, decision, code, exitCode, prev, hash, journalCopy: 'summary' });
}
