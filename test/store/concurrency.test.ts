import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBackend } from '../../adapters/local.js';
import { makeCtx, ref, scratch, secretValue } from './helpers.js';

const WORKERS = 8;
const ROUNDS = 4;

let dir: ReturnType<typeof scratch>;
let worker: string;

beforeAll(async () => {
  dir = scratch();
  worker = join(dir.root, 'worker.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/set-worker.ts', import.meta.url))],
    outfile: worker,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Only reachable with a keychain key; these workers use a key file.
    external: ['@napi-rs/keyring'],
    logLevel: 'silent',
  });
});
afterAll(() => dir.cleanup());

function run(args: string[], value: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], {
      env: { PATH: process.env.PATH, OUTLOOP_TEST_VALUE: value },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

it(`keeps every write from ${WORKERS} processes racing on a fresh store`, async () => {
  const stateDir = join(dir.root, 'state');
  const values = Array.from({ length: WORKERS }, (_, i) => secretValue(`w${i}`));
  // A shared start instant a little ahead, so the processes are all up and collide on the first write,
  // which is also the one that creates the store and its key.
  const startAt = String(Date.now() + 1500);
  const results = await Promise.all(values.map((v, i) => run([stateDir, String(i), String(ROUNDS), startAt], v)));
  for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

  const local = createBackend(makeCtx(stateDir));
  const listed = await local.list!();
  expect(listed).toHaveLength(WORKERS * (ROUNDS + 1));
  for (const [i, v] of values.entries()) {
    expect(await local.read(ref(`local:race/w${i}`))).toBe(v);
    for (let j = 0; j < ROUNDS; j++) expect(await local.read(ref(`local:race/w${i}-${j}`))).toBe(`${v}-${j}`);
  }
  // No temp files and no lock left behind.
  expect(readdirSync(stateDir).sort()).toEqual(['store.json', 'store.key']);
});
