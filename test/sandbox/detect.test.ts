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
    expect(saved).toMatchObject({ available: true });
    expect(JSON.stringify(saved)).not.toContain('"path"');
    // The caller's user can write the state folder: a planted "unavailable" would turn `auto` into no
    // sandbox, so only "available" is ever believed, and a fresh probe answers anything else...
    writeFileSync(file, JSON.stringify({ ...saved, available: false, fact: { available: false, why: 'from the cache' } }));
    expect(detectSandbox(`${process.env.PATH}::`, 'linux', file)).toMatchObject({ available: true, kind: 'bwrap' });
    // ...and a path written in the file is never what runs: the bwrap found now is.
    writeFileSync(file, JSON.stringify({ ...saved, fact: { available: true, kind: 'bwrap', path: '/tmp/fake-bwrap' }, path: '/tmp/fake-bwrap' }));
    expect(detectSandbox(`${process.env.PATH}:::`, 'linux', file)).toEqual({ available: true, kind: 'bwrap', path: first.available ? first.path : '' });
    // An old answer is probed again, and so is one for another bwrap file, kernel or user.
    writeFileSync(file, JSON.stringify({ ...saved, at: Date.now() - 11 * 60_000 }));
    expect(detectSandbox(`${process.env.PATH}::::`, 'linux', file)).toMatchObject({ available: true });
    expect(JSON.parse(readFileSync(file, 'utf8')).at).toBeGreaterThan(Date.now() - 60_000);
    writeFileSync(file, JSON.stringify({ ...saved, id: 'something else' }));
    expect(detectSandbox(`${process.env.PATH}:::::`, 'linux', file)).toMatchObject({ available: true });
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe(saved.id);
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
