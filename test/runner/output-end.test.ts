import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { handleRequest } from '../../src/broker/exec.js';
import { endSink } from '../../src/broker/sinks.js';
import { OutputCap } from '../../src/sandbox/limits.js';
import { countingBackends, makeHome, useTempDirs } from '../core/helpers.js';

/**
 * The end of a child's output, when the reader is slower than the child. The runner writes into
 * maxOutput's cap, which holds a write until the sink below has taken the one before. The broker used
 * to end the sink itself as soon as the child's pipes closed: writes still waiting in the cap then hit
 * an ended stream, the exec failed with "internal error: write after end", and the tail was lost (seen
 * under load in test/sandbox/large-output with 10 MiB).
 */
const tempDir = useTempDirs();

/** A reader that takes each write `ms` later, as a slow terminal or `| slow-tool` does. */
function slowSink(ms: number) {
  const got: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      setTimeout(cb, ms);
    },
  });
  return { sink, text: () => Buffer.concat(got).toString('utf8') };
}

describe('the end of a child output', () => {
  it('ending the capped sink passes on the writes it holds, then ends the sink under it', async () => {
    const inner = slowSink(5);
    const capped = new OutputCap(1024 * 1024).wrap(inner.sink);
    for (const part of ['one ', 'two ', 'three ', 'four']) capped.write(part);
    await endSink(capped);
    expect(inner.text()).toBe('one two three four');
    expect(inner.sink.writableFinished).toBe(true);
  });

  it('ending the capped sink settles when the sink under it was destroyed before it finished (no finish will come)', async () => {
    const inner = slowSink(0);
    const capped = new OutputCap(1024 * 1024).wrap(inner.sink);
    capped.write('one ');
    inner.sink.destroy();
    await expect(endSink(capped).then(() => 'settled', () => 'settled')).resolves.toBe('settled');
  });

  it('an exec whose reader is slower than its child gets every line and exits 0', async () => {
    const root = tempDir();
    const home = makeHome(root);
    const project = join(root, 'acme');
    mkdirSync(project, { recursive: true });
    // Forty lines 10 ms apart, each its own read; the reader takes 30 ms per write, so lines queue in the
    // cap while the sink below is busy, and the child is long gone when the last of them is written.
    home.writeRecipe(
      'lines',
      `service: lines
hosts: []
recipes:
  print:
    description: print numbered lines with pauses between them
    risk: read
    run: [sh, -c, 'i=1; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done']
    timeout: 60s
`,
    );
    home.writeConfig(`storeKey: file\ntenants:\n  acme:\n    projects: [${JSON.stringify(project)}]\n    services:\n      lines:\n        allow: ["*"]\n        sandbox: off\n`);
    const out = slowSink(30);
    const err = slowSink(0);
    const outcome = await handleRequest(
      { service: 'lines', recipe: 'print', params: {}, mode: 'exec' },
      { ...home.deps(project, countingBackends({}).factory), output: { stdout: out.sink, stderr: err.sink } },
    );
    expect(outcome).toMatchObject({ exitCode: 0 });
    expect(out.text()).toBe(Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''));
    expect(err.text()).toBe('');
    expect(home.audit().filter((a) => a.phase === 'end').at(-1)).toMatchObject({ decision: 'allow', exitCode: 0 });
  }, 60_000);
});
