import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox } from '../helpers/cli.js';
import { CI } from './helpers.js';

// "When a system install exists, its paths win over the caller's environment": with the real
// /etc/outloop/system.json in place, OUTLOOP_HOME / XDG_CONFIG_HOME at a config of the caller's own are
// not read; outloop is a client of /run/outloop/broker.sock and, with no daemon, exits 69. The marker is
// made in a private mount namespace (a tmpfs over /etc/outloop), so nothing else on this machine sees it.
const canUnshare = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v unshare']).status === 0;

describe.skipIf(!canUnshare && !CI)('a system install on the machine', () => {
  const sb = makeSandbox(['acme']);
  const made = !existsSync('/etc/outloop');
  afterAll(() => {
    sb.cleanup();
    if (made && existsSync('/etc/outloop') && readdirSync('/etc/outloop').length === 0) rmdirSync('/etc/outloop');
  });

  const withMarker = (marker: boolean) => {
    if (!canUnshare) throw new Error('this test needs root and unshare (util-linux)');
    mkdirSync('/etc/outloop', { recursive: true });
    const script = `mount -t tmpfs tmpfs /etc/outloop && ${marker ? 'echo "{}" > /etc/outloop/system.json && ' : ''}exec "$0" "$@"`;
    return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, BIN, 'exec', 'len.show'], {
      cwd: sb.projects.acme, env: { ...sb.env, XDG_CONFIG_HOME: sb.home, OUTLOOP_SOCKET: '' }, encoding: 'utf8',
    });
  };

  it('makes outloop a client of the system socket whatever OUTLOOP_HOME says (exit 69, no fall back)', () => {
    sb.writeConfig('tenants: {}\n');
    const personal = withMarker(false);
    expect(personal.stderr).not.toContain('daemon');
    const r = withMarker(true);
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('cannot reach the outloop daemon at /run/outloop/broker.sock');
  });
});
