import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSystemCommand } from '../../src/runner/which.js';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHomes } from '../../src/paths.js';
import { sandboxRun, type SandboxTarget } from '../../src/sandbox/run.js';
import { bwrap, skipWithoutBwrap } from './helpers.js';

// The hook without a plan, the way `outloop run` would use it: a target built by hand.
const homes = resolveHomes({ OUTLOOP_HOME: '/nonexistent/outloop-home' });
const target = (over: Partial<SandboxTarget> = {}): SandboxTarget => ({ label: 'run:pay+crm', hosts: ['api.pay.example', 'api.crm.example'], mode: 'auto', available: true, paths: [], ...over });
// Each spec's working folder is removed after the file: none is left in /tmp.
const dirs: string[] = [];
const spec = () => {
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-hook-')));
  dirs.push(cwd);
  return { argv: ['sh', '-c', 'true'], env: { PATH: process.env.PATH ?? '' }, cwd, stdin: undefined, timeoutMs: 5000 };
};
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sandboxRun as a library hook', () => {
  it('no sandbox: the command is unchanged and pointed at a running proxy; the record says advisory', async () => {
    const box = await sandboxRun({ target: target({ available: false }), spec: spec(), homes, path: process.env.PATH });
    expect(box.spec.argv).toEqual(['sh', '-c', 'true']);
    expect(box.spec.env.HTTPS_PROXY).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The proxy alone is not proxied (a CONNECT by hand under node's NODE_USE_ENV_PROXY): nothing else.
    expect(box.spec.env.NO_PROXY).toBe(new URL(box.spec.env.HTTPS_PROXY!).host);
    expect(await box.finish(undefined, (x) => x)).toEqual({ sandbox: 'none', sandboxMode: 'auto', egressEnforced: false, egress: [] });
  });

  it('off: neither sandbox nor proxy, and it says so', async () => {
    const box = await sandboxRun({ target: target({ mode: 'off' }), spec: spec(), homes, path: process.env.PATH });
    expect(box.spec.env.HTTPS_PROXY).toBeUndefined();
    expect(await box.finish(undefined, (x) => x)).toEqual({ sandbox: 'none', sandboxMode: 'off', egressEnforced: false });
  });

  it.skipIf(skipWithoutBwrap)('with bwrap: the command runs inside it, behind the forwarder, under its memory limit', async () => {
    const box = await sandboxRun({ target: target({ maxMemory: 1024 ** 3 }), spec: spec(), homes, path: process.env.PATH });
    const argv = box.spec.argv;
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv[4]).toBe(bwrap.available ? bwrap.path : '?');
    const inner = argv.slice(argv.indexOf('--') + 1);
    // perl's forwarder when the system has a root-owned perl, else node's.
    const perl = resolveSystemCommand('perl');
    expect(inner.slice(0, 4)).toEqual([perl ?? process.execPath, `/run/outloop/forwarder.${perl ? 'pl' : 'mjs'}`, '/run/outloop/proxy.sock', '--']);
    expect(inner.slice(4)).toEqual(['/bin/sh', '-c', 'ulimit -v "$1" || exit 70; shift; exec "$@"', 'outloop-limit', String(1024 ** 2), 'sh', '-c', 'true']);
    expect(box.spec.env.HTTPS_PROXY).toBeUndefined();
    expect(await box.finish(undefined, (x) => x)).toMatchObject({ sandbox: 'bwrap', egressEnforced: true, egress: [] });
  });
});
