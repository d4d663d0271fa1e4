import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/**
 * The README's quick start, run as written: the fenced `sh` block under "## Quick start" is taken from the
 * README itself (so an edit that breaks it fails here), with `outloop` on PATH and a fresh home, and each
 * line's exit status is checked.
 */
function quickStart(): string[] {
  const md = readFileSync('README.md', 'utf8');
  const section = md.split(/^## Quick start$/m)[1];
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Quick start"');
  return block.split('\n').filter((l) => l.trim() !== '');
}

const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-test-readme-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('README quick start', () => {
  it('runs as written: init, secrets set, check and audit succeed; exec runs against the stand-in host; the token appears nowhere', () => {
    const lines = quickStart();
    expect(lines[0]).toMatch(/^cd /);
    const home = join(root, 'home');
    const bin = join(root, 'bin');
    mkdirSync(join(home, 'clients', 'acme-web'), { recursive: true });
    mkdirSync(bin);
    writeFileSync(join(bin, 'outloop'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'outloop'), 0o755);
    const token = `qs_${randomBytes(18).toString('hex')}`;
    // Each line is followed by a marker with its status, so one shell (keeping `cd`) runs them all.
    const script = lines.map((l, i) => `${l}\necho "__rc ${i} $?" >&2`).join('\n');
    const r = spawnSync('bash', ['-c', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, LANG: 'C.UTF-8', OUTLOOP_HOME: join(root, 'outloop'), TOKEN: token },
    });
    const rc = Object.fromEntries([...r.stderr.matchAll(/^__rc (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]));
    const byCommand = (word: string) => rc[lines.findIndex((l) => l.startsWith(`outloop ${word}`) || l.includes(`| outloop ${word}`))];
    expect(Object.keys(rc)).toHaveLength(lines.length);
    expect(byCommand('init'), r.stderr).toBe(0);
    expect(byCommand('secrets'), r.stderr).toBe(0);
    expect(byCommand('check'), r.stdout).toBe(0);
    expect(byCommand('audit'), r.stdout).toBe(0);
    // The example host is a stand-in: exec ran (the recipe's curl got a refusal), it was not a usage,
    // config or internal error.
    expect([64, 65, 70, 77, 78]).not.toContain(byCommand('exec'));
    expect(r.stdout).toContain('example.get-status');
    expect(r.stdout + r.stderr).not.toContain(token);
  });
});
