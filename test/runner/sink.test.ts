import { describe, expect, it } from 'vitest';
import { Sink } from '../../src/runner/sink.js';
import { OutputCap } from '../../src/sandbox/limits.js';
import { STOP_CHILD } from '../../src/runner/spawn.js';

/**
 * The runner's output sinks are not node streams (src/runner/sink.ts): the part of a Writable the runner
 * and the broker rely on, kept here. Backpressure reaches the child's pipe, the end waits for every write
 * and then for what the sink holds, and an error ends it once.
 */
type Done = (err?: Error | null) => void;

/** A sink whose destination takes each write when the test says so. */
class Manual extends Sink {
  readonly taken: string[] = [];
  readonly waiting: Done[] = [];
  flushed = 0;
  constructor(private readonly sync = false) {
    super();
  }
  protected take(chunk: Buffer, done: Done): void {
    this.taken.push(chunk.toString());
    if (this.sync) done();
    else this.waiting.push(done);
  }
  protected flush(done: Done): void {
    this.flushed++;
    this.taken.push('<flushed>');
    done();
  }
  release(err?: Error): void {
    for (const d of this.waiting.splice(0)) d(err);
  }
}

const kib = (n: number, c = 'x') => Buffer.alloc(n * 1024, c);

describe('Sink', () => {
  it('asks the writer to wait once 16 KiB are not yet taken, and says drain when all are', () => {
    const s = new Manual();
    const events: string[] = [];
    s.on('drain', () => events.push('drain'));
    expect(s.write(kib(8))).toBe(true);
    expect(s.write(kib(8))).toBe(false);
    expect(s.writableNeedDrain).toBe(true);
    s.waiting.shift()!();
    expect(events).toEqual([]);
    s.release();
    expect(events).toEqual(['drain']);
    expect(s.writableNeedDrain).toBe(false);
  });

  it('never asks to wait when its destination takes each write at once', () => {
    const s = new Manual(true);
    for (let i = 0; i < 10; i++) expect(s.write(kib(64))).toBe(true);
  });

  it('ends after every write is taken: then flushes, then finishes', async () => {
    const s = new Manual();
    s.write(Buffer.from('one '));
    s.write(Buffer.from('two'));
    const order: string[] = [];
    s.on('finish', () => order.push('finish'));
    const ended = new Promise<void>((resolve) => s.end((err) => (order.push(`end ${err ?? 'ok'}`), resolve())));
    expect(s.flushed).toBe(0);
    s.release();
    await ended;
    expect(s.taken).toEqual(['one ', 'two', '<flushed>']);
    expect(order).toEqual(['finish', 'end ok']);
    expect(s.writableFinished).toBe(true);
  });

  it('fails once: an error from the destination is emitted, later writes and the end are called back with it', async () => {
    const s = new Manual();
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.message));
    s.write(Buffer.from('a'));
    s.release(new Error('disk full'));
    const late = await new Promise<Error | null | undefined>((resolve) => s.write(Buffer.from('b'), resolve));
    const end = await new Promise<Error | null | undefined>((resolve) => s.end(resolve));
    expect(late?.message).toBe('disk full');
    expect(end?.message).toBe('disk full');
    expect(errors).toEqual(['disk full']);
    expect(s.taken).toEqual(['a']);
    expect(s.flushed).toBe(0);
  });

  it('calls back an end waiting on a sink destroyed without an error, instead of leaving it forever', async () => {
    const s = new Manual();
    s.write(Buffer.from('a'));
    const end = new Promise<Error | null | undefined>((resolve) => s.end(resolve));
    s.destroy();
    expect((await end)?.message).toMatch(/destroyed before it finished/);
  });
});

describe('the maxOutput cap over a sink', () => {
  it('passes what fits, cuts the write that crosses, drops the rest and asks for the child to be stopped', async () => {
    const inner = new Manual(true);
    const cap = new OutputCap(10);
    const capped = cap.wrap(inner);
    let stops = 0;
    capped.on(STOP_CHILD, () => stops++);
    capped.write(Buffer.from('12345'));
    capped.write(Buffer.from('6789AB'));
    capped.write(Buffer.from('CD'));
    await new Promise<void>((resolve, reject) => capped.end((err) => (err ? reject(err) : resolve())));
    expect(inner.taken).toEqual(['12345', '6789A', '<flushed>']);
    expect(cap.truncated).toBe(true);
    expect(stops).toBe(1);
    expect(inner.writableFinished).toBe(true);
  });

  it('settles its end with an error when the sink below is destroyed first', async () => {
    const inner = new Manual();
    const capped = new OutputCap(1024).wrap(inner);
    capped.on('error', () => {});
    capped.write(Buffer.from('held below'));
    const end = new Promise<Error | null | undefined>((resolve) => capped.end(resolve));
    inner.destroy();
    expect(await end).toBeInstanceOf(Error);
  });
});
