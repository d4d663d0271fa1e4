import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bwrapArgv, programDirs, SUPPORT_MOUNT, type Mount } from '../../src/sandbox/bwrap.js';
import { sbString, seatbeltArgv, seatbeltProfile } from '../../src/sandbox/seatbelt.js';

const system: Mount[] = [
  { kind: 'ro', src: '/usr', dest: '/usr' },
  { kind: 'symlink', target: 'usr/bin', dest: '/bin' },
  { kind: 'ro', src: '/etc', dest: '/etc' },
];

/** The mount operations as [flag, ...operands], in order. */
function mounts(args: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const a = args[i]!;
    if (a === '--ro-bind' || a === '--bind' || a === '--symlink') out.push([a, args[++i]!, args[++i]!]);
    else if (a === '--tmpfs') out.push([a, args[++i]!]);
  }
  return out;
}

describe('bwrap argv', () => {
  const base = { system, extra: [], runDir: '/tmp/outloop-run-1-abc', supportDir: '/tmp/outloop-run-1-sup', protect: ['/home/u/.config/outloop', '/home/u/.local/state/outloop'], inner: ['curl', '-sS', 'x'] };

  it('never binds / nor the home folder; binds only the system, the run folder and the support folder', () => {
    const args = bwrapArgv(base);
    const m = mounts(args);
    expect(m).toEqual([
      ['--ro-bind', '/usr', '/usr'],
      ['--symlink', 'usr/bin', '/bin'],
      ['--ro-bind', '/etc', '/etc'],
      ['--tmpfs', '/tmp'],
      ['--bind', '/tmp/outloop-run-1-abc', '/tmp/outloop-run-1-abc'],
      ['--ro-bind', '/tmp/outloop-run-1-sup', SUPPORT_MOUNT],
    ]);
    expect(args.some((a, i) => a === '--ro-bind' && args[i + 1] === '/')).toBe(false);
    expect(args.join(' ')).not.toMatch(/\/home\/u/);
  });

  it('unshares everything, dies with its parent, drops capabilities, and ends with the command', () => {
    const args = bwrapArgv(base);
    for (const flag of ['--unshare-all', '--die-with-parent', '--proc', '--dev']) expect(args).toContain(flag);
    expect(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2)).toEqual(['--cap-drop', 'ALL']);
    expect(args).not.toContain('--share-net');
    expect(args).not.toContain('--new-session');
    expect(args.slice(args.indexOf('--chdir'), args.indexOf('--chdir') + 2)).toEqual(['--chdir', '/tmp/outloop-run-1-abc']);
    expect(args.slice(args.indexOf('--') + 1)).toEqual(['curl', '-sS', 'x']);
  });

  it('no environment in argv (ps shows it to every user): no --setenv, no --clearenv', () => {
    const args = bwrapArgv(base);
    expect(args).not.toContain('--setenv');
    expect(args).not.toContain('--clearenv');
  });

  it('declared paths are bound with their mode; outloop\'s own folders inside one are masked, a folder inside a mask shows', () => {
    const args = bwrapArgv({
      ...base,
      extra: [
        { path: '/home/u', mode: 'ro' },
        { path: '/home/u/.config/outloop/recipes', mode: 'ro' },
        { path: '/home/u/clients/acme', mode: 'rw' },
      ],
    });
    const m = mounts(args);
    const at = (op: string[]) => m.findIndex((x) => x.join(' ') === op.join(' '));
    const home = at(['--ro-bind', '/home/u', '/home/u']);
    const mask = at(['--tmpfs', '/home/u/.config/outloop']);
    const state = at(['--tmpfs', '/home/u/.local/state/outloop']);
    const recipes = at(['--ro-bind', '/home/u/.config/outloop/recipes', '/home/u/.config/outloop/recipes']);
    expect(at(['--bind', '/home/u/clients/acme', '/home/u/clients/acme'])).toBeGreaterThan(home);
    expect(home).toBeGreaterThanOrEqual(0);
    expect(mask).toBeGreaterThan(home);
    expect(state).toBeGreaterThan(home);
    expect(recipes).toBeGreaterThan(mask);
  });

  it('outloop\'s folders are not masked when nothing shows them', () => {
    expect(mounts(bwrapArgv(base)).filter((x) => x[0] === '--tmpfs')).toEqual([['--tmpfs', '/tmp']]);
  });

  it('programDirs adds folders outside the system only', () => {
    expect(programDirs(['/usr/bin/env'])).toEqual([]);
    expect(programDirs([process.execPath], ['/nowhere'])).toContain(dirname(process.execPath));
  });
});

describe('seatbelt profile', () => {
  it('denies by default, writes only the run folder, and reaches only the proxy port', () => {
    const p = seatbeltProfile({ runDir: '/private/var/folders/x/outloop-run-1', extra: [{ path: '/Users/u/proj', mode: 'ro' }], programDirs: ['/Users/u/.nvm/v20/bin'], proxyPort: 41234 });
    expect(p.split('\n').slice(0, 2)).toEqual(['(version 1)', '(deny default)']);
    expect(p).toContain('(allow network-outbound (remote ip "localhost:41234"))');
    expect(p.match(/network/g)).toHaveLength(1);
    const write = p.split('\n').find((l) => l.startsWith('(allow file-read* file-write*'))!;
    expect(write).toBe('(allow file-read* file-write* (subpath "/private/var/folders/x/outloop-run-1"))');
    const read = p.split('\n').find((l) => l.startsWith('(allow file-read* (literal'))!;
    expect(read).toContain('(subpath "/Users/u/proj")');
    expect(read).toContain('(subpath "/Users/u/.nvm/v20/bin")');
    expect(read).not.toMatch(/subpath "\/Users\/u"\)/);
  });
  it('no network rule at all without hosts', () => {
    expect(seatbeltProfile({ runDir: '/r', extra: [], programDirs: [], proxyPort: undefined })).not.toContain('network');
  });
  it('quotes paths so a quote cannot end the string', () => {
    expect(sbString('/a"b\\c')).toBe('"/a\\"b\\\\c"');
    const p = seatbeltProfile({ runDir: '/r") (allow default', extra: [], programDirs: [], proxyPort: undefined });
    expect(p).toContain('(subpath "/r\\") (allow default")');
    expect(seatbeltArgv(p, ['curl'])).toEqual(['/usr/bin/sandbox-exec', '-p', p, 'curl']);
  });
});
