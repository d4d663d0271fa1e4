import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * The end record cannot be written after the child ran (issue 19 item 2): the log made immutable mid-run,
 * the disk filled mid-run (a tmpfs with room for the start record only once the child has written). The
 * answer must say the child ran, with its exit code, and forbid a blind retry, in text and --json;
 * never "nothing was run".
 */
const CI = process.env.CI === 'true';
const isRoot = process.getuid?.() === 0;

function recipe(script: string, arg: string): string {
  return `service: er
recipes:
  act:
    description: has an effect, then the log fails
    run: [sh, -c, ${JSON.stringify(script)}, sh, ${JSON.stringify(arg)}]
`;
}

async function expectRanUnrecorded(e: E2E, reset: () => void): Promise<void> {
  const j = await e.cli(['exec', 'er.act', '--json']);
  expect(j.status, j.stderr).toBe(70);
  const env = JSON.parse(j.stdout) as Record<string, unknown>;
  expect(env).toMatchObject({ ok: false, code: 'ran_unrecorded', ran: true, childExitCode: 7 });
  expect(env.stdout).toBe('did it\n');
  expect(String(env.reason)).toContain('ran and exited 7');
  expect(String(env.reason)).toContain('do not retry blindly');
  expect(String(env.reason)).not.toContain('nothing was run');
  expect(String(env.next)).toContain('before running it again');
  reset();
  const t = await e.cli(['exec', 'er.act']);
  expect(t.status).toBe(70);
  expect(t.stdout).toBe('did it\n');
  expect(t.stderr).toContain('ran and exited 7');
  expect(t.stderr).not.toContain('nothing was run');
  expect(t.stderr).toContain('[ran_unrecorded]');
  reset();
}

describe('the end record cannot be written after the child ran', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const c of cleanups.reverse()) c();
  });

  // chattr needs a filesystem with the immutable flag (ext4, xfs, btrfs; tmpfs only on recent kernels).
  const probe = (() => {
    const e = makeE2E(['acme']);
    const f = join(e.home, 'probe');
    writeFileSync(f, '');
    const r = spawnSync('chattr', ['+i', f], { encoding: 'utf8' });
    spawnSync('chattr', ['-i', f]);
    e.cleanup();
    if (r.error) return CI ? 'fail: chattr is not installed (e2fsprogs)' : 'skip: chattr is not installed';
    if (!isRoot) return CI ? 'fail: setting the immutable flag needs root' : 'skip: not root';
    return r.status === 0 ? 'ok' : `skip: this filesystem has no immutable flag (${r.stderr.trim()})`;
  })();

  it.skipIf(probe.startsWith('skip'))(`chattr +i on the audit log mid-run (${probe})`, async () => {
    expect(probe).toBe('ok');
    const e = makeE2E(['acme']);
    const log = join(e.home, 'audit.jsonl');
    cleanups.push(() => {
      spawnSync('chattr', ['-i', log]);
      e.cleanup();
    });
    e.writeRecipe('er', recipe('chattr +i "$1" && echo "did it" && exit 7', log));
    e.writeConfig(configYaml(e, { acme: 'er:\n  allow: ["*"]\n  sandbox: off' }));
    await expectRanUnrecorded(e, () => execFileSync('chattr', ['-i', log]));
    // The start records are on the chain; the ends are missing, as the messages said.
    expect(e.audit().filter((r) => r.recipe === 'act').map((r) => r.phase)).toEqual(['start', 'start']);
  });

  const tmpfs = isRoot ? 'ok' : CI ? 'fail: mounting a tmpfs needs root' : 'skip: mounting a tmpfs needs root';
  it.skipIf(tmpfs.startsWith('skip'))(`ENOSPC: the child fills a small tmpfs holding the audit log (${tmpfs})`, async () => {
    expect(tmpfs).toBe('ok');
    const e = makeE2E(['acme']);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'outloop-faults', e.home]);
    cleanups.push(() => {
      spawnSync('umount', [e.home]);
      e.cleanup();
    });
    mkdirSync(join(e.home, 'recipes'));
    const fill = join(e.home, 'fill');
    e.writeRecipe('er', recipe('dd if=/dev/zero of="$1" bs=4096 2>/dev/null; echo "did it"; exit 7', fill));
    e.writeConfig(configYaml(e, { acme: 'er:\n  allow: ["*"]\n  sandbox: off' }));
    await expectRanUnrecorded(e, () => rmSync(fill, { force: true }));
  });
});
