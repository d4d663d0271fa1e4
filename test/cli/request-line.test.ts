import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CHECK_OPTIONS, EXEC_OPTIONS, parseRequestLine } from '../../src/cli/options.js';
import { collectParam } from '../../src/cli/params.js';

// The hot path reads plain exec/check lines by hand (no parseArgs module to load); whatever it reads must
// come out exactly as node's parseArgs reads it, and what it does not read goes to parseArgs.
function reference(argv: string[]) {
  const specs = argv[0] === 'exec' ? EXEC_OPTIONS : CHECK_OPTIONS;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(specs.map((s) => [s.name, { type: s.arg ? ('string' as const) : ('boolean' as const), ...(s.short ? { short: s.short } : {}), ...(s.repeat ? { multiple: true } : {}) }])),
    });
  } catch {
    return undefined;
  }
  if (parsed.positionals.length !== 1) return undefined;
  const v = parsed.values as Record<string, unknown>;
  return { target: parsed.positionals[0], values: v };
}

const LINES: string[][] = [
  ['exec', 'svc.noop'],
  ['exec', 'svc.noop', '--tenant', 'acme'],
  ['exec', '--tenant=acme', 'svc.noop'],
  ['exec', 'svc.noop', '--tenant=', '--json'],
  ['exec', 'svc.noop', '--tenant', ''],
  ['exec', 'svc.noop', '-p', 'a=1', '--param', 'b=2', '--param=c=3=4'],
  ['exec', 'svc.noop', '--dry-run', '--wait', '--record', '--json'],
  ['exec', 'svc.noop', '--tenant', 'a', '--tenant', 'b'],
  ['check', 'svc.noop', '--json', '-p', 'n=5'],
  ['check', 'svc.noop', '--dry-run'],
  ['exec', 'svc.noop', '--json=true'],
  ['exec', 'svc.noop', '--tenant'],
  ['exec', 'svc.noop', '--tenant', '-x'],
  ['exec', 'svc.noop', '-p=a=1'],
  ['exec', 'svc.noop', '-pa=1'],
  ['exec', 'svc.noop', '--', '--json'],
  ['exec', 'svc.noop', '-'],
  ['exec', 'a.b', 'c.d'],
  ['exec'],
  ['exec', '--bogus', 'svc.noop'],
  ['exec', 'svc.noop', '-j'],
];

describe('parseRequestLine', () => {
  it.each(LINES.map((l) => [l.join(' '), l]))('%s: as parseArgs reads it', (_name, argv) => {
    const attempt = <T>(f: () => T): T | { threw: string } => {
      try {
        return f();
      } catch (err) {
        return { threw: (err as Error).message };
      }
    };
    const ref = reference(argv as string[]);
    const refParams = attempt(() => ((ref?.values as { param?: string[] } | undefined)?.param ?? []).reduce<Record<string, string>>((acc, p) => collectParam(p, acc), {}));
    const ours = attempt(() => parseRequestLine(argv as string[]));
    if (ours && 'threw' in ours) {
      expect(refParams).toEqual(ours);
      return;
    }
    expect(Boolean(ours)).toBe(Boolean(ref));
    if (!ours || !ref) return;
    expect(ours.target).toBe(ref.target);
    const v = ref.values as { param?: string[]; tenant?: string; json?: boolean; 'dry-run'?: boolean; wait?: boolean; record?: boolean };
    expect(ours.flags.tenant).toBe(v.tenant ?? process.env.OUTLOOP_TENANT);
    expect(ours.flags.json).toBe(Boolean(v.json));
    expect(ours.flags.dryRun).toBe(Boolean(v['dry-run']));
    expect(ours.flags.wait).toBe(Boolean(v.wait));
    expect(ours.flags.record).toBe(Boolean(v.record));
    expect(ours.flags.param).toEqual(refParams);
  });

  it('a plain exec line loads no parseArgs module (the built CLI, in a process of its own)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outloop-argv-'));
    try {
      const probe = join(dir, 'probe.cjs');
      writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(join(dir, 'mods'))}, process.moduleLoadList.join('\\n')));`);
      const run = (...args: string[]) => {
        spawnSync(process.execPath, ['--require', probe, resolve('bin/outloop.js'), ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, OUTLOOP_HOME: join(dir, 'home') } });
        return readFileSync(join(dir, 'mods'), 'utf8').includes('parse_args');
      };
      expect(run('exec', 'svc.noop', '--tenant', 'acme', '-p', 'a=1', '--json')).toBe(false);
      // An unusual line still goes to parseArgs (which the probe sees: it can tell).
      expect(run('exec', 'svc.noop', '-p=a=1')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
