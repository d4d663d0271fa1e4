import { spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipSystem } from './helpers.js';
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

  // In a child process: a subreaper's adopted zombies would otherwise collect in the test runner.
  it.skipIf(skipSystem)('a subreaper adopts a double fork\'s orphan and reaps it, and never takes libuv\'s own child', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { spawn } from 'node:child_process';
      import { readdirSync, readFileSync } from 'node:fs';
      const a = createRequire(import.meta.url)(process.argv[1]);
      a.subreaper();
      const stat = (pid) => {
        try {
          const l = readFileSync('/proc/' + pid + '/stat', 'utf8');
          const f = l.slice(l.lastIndexOf(')') + 2).split(' ');
          return { state: f[0], ppid: Number(f[1]) };
        } catch { return undefined; }
      };
      const kids = () => readdirSync('/proc').filter((n) => /^\\d+$/.test(n) && stat(n)?.ppid === process.pid).map(Number);
      const c = spawn('sh', ['-c', 'setsid -f sh -c "exit 0"; exit 3'], { stdio: 'ignore' });
      // Not yielding to the event loop, libuv cannot reap its child: wait until both have exited.
      let orphan;
      for (const end = Date.now() + 15000; Date.now() < end;) {
        const k = kids();
        orphan = k.find((p) => p !== c.pid);
        if (orphan && k.every((p) => stat(p)?.state === 'Z')) break;
      }
      const first = a.reapAdopted(c.pid);
      c.once('exit', (code) => {
        const second = a.reapAdopted(0);
        console.log(JSON.stringify({ adopted: orphan !== undefined, code, reaped: first + second, none: a.reapAdopted(0), gone: !stat(orphan) }));
      });
    `;
    const addonPath = resolve('native/peercred/build/Release/peercred.node');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, addonPath], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    // code 3: libuv still saw its child's exit; reaped 1: the orphan, which came here rather than to init.
    expect(JSON.parse(r.stdout)).toEqual({ adopted: true, code: 3, reaped: 1, none: -1, gone: true });
  });
});
