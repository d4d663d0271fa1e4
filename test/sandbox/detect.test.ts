import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSandbox, findBwrap } from '../../src/sandbox/detect.js';
import { useTempDirs } from '../core/helpers.js';
import { requireBwrap, skipWithoutBwrap } from './helpers.js';

const tempDir = useTempDirs();

// Each call below uses a PATH spelled differently (same folders), so the per-process memo misses and the
// file is what answers.
describe.skipIf(skipWithoutBwrap)('sandbox detection', () => {
  it('probes bwrap for real, and keeps the answer in the state folder for the next process', () => {
    requireBwrap();
    const file = join(tempDir(), 'sandbox-probe.json');
    const first = detectSandbox(`${process.env.PATH}:`, 'linux', file);
    expect(first).toMatchObject({ available: true, kind: 'bwrap' });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.fact).toEqual(first);
    // A changed answer in the file is what a later process believes, within the cache's lifetime...
    writeFileSync(file, JSON.stringify({ ...saved, fact: { available: false, why: 'from the cache' } }));
    expect(detectSandbox(`${process.env.PATH}::`, 'linux', file)).toEqual({ available: false, why: 'from the cache' });
    // ...and not after it: an old answer is probed again.
    writeFileSync(file, JSON.stringify({ ...saved, at: Date.now() - 11 * 60_000, fact: { available: false, why: 'stale' } }));
    expect(detectSandbox(`${process.env.PATH}:::`, 'linux', file)).toMatchObject({ available: true });
    // Nor for another bwrap, kernel or user: the key does not match.
    writeFileSync(file, JSON.stringify({ ...saved, id: 'something else', fact: { available: false, why: 'other' } }));
    expect(detectSandbox(`${process.env.PATH}::::`, 'linux', file)).toMatchObject({ available: true });
  });

  it('bwrap comes from the system folders, never from a PATH folder someone else could write', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bwrap'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    chmodSync(dir, 0o777);
    expect(findBwrap(dir)).toBe('/usr/bin/bwrap');
    expect(findBwrap(undefined)).toBe('/usr/bin/bwrap');
    expect(detectSandbox(undefined, 'win32')).toEqual({ available: false, why: 'no sandbox support on win32' });
  });
});
