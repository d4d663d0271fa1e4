import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { type E2E, makeStripeE2E, plantedSecret } from './helpers.js';

/** `outloop redact < file` reads ahead in 1 MiB pieces: values across those seams are still masked whole. */
const KEY = plantedSecret('acme');

describe('outloop redact with a file on stdin', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await makeStripeE2E(KEY);
  });
  afterAll(() => e.cleanup());

  it('masks a value on every 1 MiB seam and leaves the rest byte-identical', () => {
    const MiB = 1 << 20;
    const parts: string[] = [];
    let size = 0;
    for (let k = 1; k <= 3; k++) {
      const filler = 'x'.repeat(k * MiB - size - 10);
      parts.push(filler, KEY);
      size += filler.length + KEY.length;
    }
    parts.push('\nend\n');
    const file = join(e.root, 'big.log');
    writeFileSync(file, parts.join(''));
    const fd = openSync(file, 'r');
    const r = spawnSync(process.execPath, [BIN, 'redact', '-q'], { cwd: e.projects.acme, env: e.env, stdio: [fd, 'pipe', 'pipe'], maxBuffer: 64 * MiB });
    closeSync(fd);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(parts.join('').replaceAll(KEY, '[REDACTED:STRIPE_KEY]'));
  });
});
