import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runChild } from '../../src/runner/spawn.js';

/**
 * The runner without a pid namespace (macOS, no bwrap): a process that left the group with setsid and
 * holds the output pipes cannot be killed by a group signal, but it must not keep outloop waiting.
 */
function sinks() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.resume();
  return { sinks: { stdout, stderr }, out: () => out };
}

const spec = (script: string, timeoutMs: number) => ({ argv: ['/bin/sh', '-c', script], env: { PATH: '/usr/bin:/bin' }, cwd: '/', stdin: undefined, timeoutMs });

describe('runChild against a setsid straggler holding stdout', () => {
  it('the timeout holds: the output is closed after the kill, exit 124', async () => {
    const s = sinks();
    const t0 = Date.now();
    const r = await runChild(spec('setsid sleep 30 & echo $! ; sleep 30', 300), s.sinks);
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(124);
    expect(Date.now() - t0).toBeLessThan(8000);
    try {
      process.kill(Number(s.out().trim()), 'SIGKILL');
    } catch {
      /* gone */
    }
  });

  it('a child that exited is not waited for beyond a moment, whatever holds its output', async () => {
    const s = sinks();
    const t0 = Date.now();
    const r = await runChild(spec('setsid sleep 30 & echo $!; exit 3', Infinity), s.sinks);
    expect(r.exitCode).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000);
    try {
      process.kill(Number(s.out().trim()), 'SIGKILL');
    } catch {
      /* gone */
    }
  });
});

describe('runChild when outloop\'s own reader is slow', () => {
  it('keeps everything the child wrote before it exited, however long the reader stalls (no cut after the grace)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outloop-slow-reader-'));
    const done = join(dir, 'done');
    let got = 0;
    let stalled = false;
    // A reader that takes nothing until the child has exited, then another 2.5 s (past the 1 s grace the
    // runner gives stragglers), then everything. What the child wrote waits in its pipe and node's buffers meanwhile.
    const stdout = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        if (stalled) return cb();
        stalled = true;
        const wait = () => (existsSync(done) ? setTimeout(cb, 2500) : setTimeout(wait, 10));
        wait();
      },
    });
    const stderr = new PassThrough().resume();
    // Small enough to fit in the pipe alone (256 KiB from native/spawn, ~200 KiB in node's socket pair), so
    // the child can finish and exit while the reader stalls; large enough that some of it is still in the
    // pipe then (a 1 s cut lost 32 KiB).
    const size = 160 * 1024;
    const r = await runChild(spec(`head -c ${size} /dev/zero; touch ${done}`, 60_000), { stdout, stderr });
    await new Promise<void>((resolve) => stdout.end(resolve));
    rmSync(dir, { recursive: true, force: true });
    expect(r.exitCode).toBe(0);
    expect(got).toBe(size);
  }, 30_000);
});
