import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ancestry, loadPeercred, parseStat, readStat } from '../../src/system/peer.js';

describe('peer credentials', () => {
  it('SO_PEERCRED gives the connecting process uid, gid and pid', async () => {
    const peercred = loadPeercred(resolve('.'));
    const dir = mkdtempSync(join(tmpdir(), 'outloop-peer-'));
    const sock = join(dir, 's');
    try {
      const got = await new Promise((done, fail) => {
        const srv = createServer((c) => {
          try {
            done(peercred((c as unknown as { _handle: { fd: number } })._handle.fd));
          } catch (err) {
            fail(err);
          }
          c.destroy();
          srv.close();
        }).listen(sock, () => connect(sock).on('error', () => {}));
      });
      expect(got).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses /proc stat lines whose command holds spaces and parentheses', () => {
    const line = '4242 (we ird) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, startTime: '987654' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('walks this process up to init with start times', () => {
    const me = readStat(process.pid)!;
    expect(me.ppid).toBe(process.ppid);
    const chain = ancestry(process.pid);
    expect(chain[0]).toEqual(me);
    expect(chain[1]!.pid).toBe(process.ppid);
  });
});
