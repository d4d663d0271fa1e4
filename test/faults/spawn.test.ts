import { PassThrough } from 'node:stream';
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
