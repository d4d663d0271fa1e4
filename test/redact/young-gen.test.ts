import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The young generation is a process-wide V8 setting, so each case runs in a fresh child (see young-gen.ts).
let dir: string;
let child: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outloop-young-gen-'));
  child = join(dir, 'child.mjs');
  await build({ entryPoints: [fileURLToPath(new URL('./fixtures/young-gen-child.ts', import.meta.url))], outfile: child, platform: 'node', format: 'esm', bundle: true, logLevel: 'warning' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(nodeArgs: string[]): { afterBuild: number; afterChurn: number } {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...nodeArgs, child], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { afterBuild: number; afterChurn: number };
}

const MiB = 1024 * 1024;

describe('a large redactor is built with the young generation held', () => {
  it('keeps it at its start size for 300 values, and lets it grow again afterwards', () => {
    const { afterBuild, afterChurn } = run([]);
    expect(afterBuild).toBeLessThanOrEqual(2 * MiB);
    expect(afterChurn).toBeGreaterThan(afterBuild);
  });

  it('leaves a growth factor set on the command line alone (and then the build grows it)', () => {
    const { afterBuild } = run(['--semi-space-growth-factor=2']);
    expect(afterBuild).toBeGreaterThan(2 * MiB);
  });
});
