import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, verifyAuditFile } from '../../src/audit/index.js';
import { dgramAddon } from '../../src/audit/journal.js';
import { entry, useTempDirs } from './helpers.js';

/**
 * A real Unix datagram socket stands in for journald's and syslog's: Node cannot bind one, so a small
 * python3 receiver does, and prints each datagram it gets as one line of hex.
 */
const RECEIVER = `
import socket, sys, binascii
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data = s.recv(1 << 20)
    print(binascii.hexlify(data).decode(), flush=True)
`;

const tempDir = useTempDirs();
const receivers: ChildProcess[] = [];
afterEach(() => {
  for (const r of receivers.splice(0)) r.kill('SIGKILL');
});

function receive(path: string): Promise<{ next: () => Promise<Buffer> }> {
  const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  receivers.push(child);
  const got: Buffer[] = [];
  const waiting: ((b: Buffer) => void)[] = [];
  let buffered = '';
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'ready') {
          resolve({ next: () => new Promise((res) => (got.length ? res(got.shift()!) : waiting.push(res))) });
          continue;
        }
        const buf = Buffer.from(line, 'hex');
        const w = waiting.shift();
        if (w) w(buf);
        else got.push(buf);
      }
    });
  });
}

/** journald's native format, the simple form (no value here holds a newline). */
function fields(datagram: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of datagram.toString('utf8').split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

describe('each record is also sent to journald or syslog', () => {
  it('the addon is built (npm ci runs node-gyp for native/dgram)', () => {
    expect(dgramAddon()).not.toBeNull();
  });

  it("journald's native protocol: one datagram per record, MESSAGE is the record's line", async () => {
    const dir = tempDir();
    const journald = join(dir, 'journal.sock');
    const rx = await receive(journald);
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog(file, { chainKey: Buffer.alloc(32, 7), journal: { journald, syslog: join(dir, 'none') } });
    const a = await log.append(entry({ tenant: 'acme', decision: 'deny', code: 'not_granted' }));
    const b = await log.append(entry({ tenant: 'acme' }));
    const lines = (await import('node:fs')).readFileSync(file, 'utf8').split('\n');
    const first = fields(await rx.next());
    expect(first).toMatchObject({
      MESSAGE: lines[0],
      SYSLOG_IDENTIFIER: 'outloop',
      SYSLOG_FACILITY: '10',
      PRIORITY: '4',
      OUTLOOP_ID: a.id,
      OUTLOOP_DECISION: 'deny',
      OUTLOOP_HASH: a.hash,
      OUTLOOP_TENANT: 'acme',
    });
    expect(fields(await rx.next())).toMatchObject({ MESSAGE: lines[1], PRIORITY: '6', OUTLOOP_HASH: b.hash });
    // The local chain stays the authority, and is intact.
    expect(verifyAuditFile(file, { chainKey: Buffer.alloc(32, 7) })).toMatchObject({ ok: true, records: 2 });
  });

  it('no journald: syslog over its socket, RFC 3164 with the authpriv facility', async () => {
    const dir = tempDir();
    const syslog = join(dir, 'log.sock');
    const rx = await receive(syslog);
    const log = new AuditLog(join(dir, 'audit.jsonl'), { journal: { journald: join(dir, 'no-journald'), syslog } });
    const r = await log.append(entry());
    const text = (await rx.next()).toString('utf8');
    expect(text).toMatch(new RegExp(`^<86>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d outloop\\[${process.pid}\\]: \\{`));
    expect(JSON.parse(text.slice(text.indexOf(': ') + 2))).toEqual(r);
  });

  it('a record too large for one datagram goes as a summary that still names its hash', async () => {
    const dir = tempDir();
    const journald = join(dir, 'journal.sock');
    const rx = await receive(journald);
    const log = new AuditLog(join(dir, 'audit.jsonl'), { journal: { journald } });
    const r = await log.append(entry({ argv: ['echo', 'x'.repeat(200_000)] }));
    const msg = JSON.parse(fields(await rx.next()).MESSAGE!) as Record<string, unknown>;
    expect(msg).toMatchObject({ id: r.id, hash: r.hash, prev: r.prev, journalCopy: 'summary' });
  });

  it('neither socket exists: the append succeeds quietly', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog(file, { journal: { journald: join(dir, 'a'), syslog: join(dir, 'b') } });
    await log.append(entry());
    expect(existsSync(file)).toBe(true);
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: 1 });
  });
});
