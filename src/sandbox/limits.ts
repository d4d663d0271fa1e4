import { finished, Writable } from 'node:stream';
import { READER_GONE, STOP_CHILD } from '../runner/spawn.js';

/**
 * maxOutput: one byte budget shared by stdout and stderr (what the child wrote, before redaction). The
 * write that crosses it is cut at the limit, everything after is dropped, and the sink asks the runner
 * to stop the child's whole process group; the run is then marked truncated.
 */
export const DEFAULT_MAX_OUTPUT = 10 * 1024 * 1024;

export class OutputCap {
  truncated = false;
  private used = 0;
  constructor(readonly max: number) {}

  wrap(inner: Writable): Writable {
    const w = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.truncated) return cb();
        const room = this.max - this.used;
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        this.used += part.length;
        const over = part.length < chunk.length;
        if (over) {
          this.truncated = true;
          w.emit(STOP_CHILD);
        }
        if (!part.length) return cb();
        inner.write(part, (err) => cb(err ?? null));
      },
      // The runner ends what it wrote to, this wrapper: the writes it still holds go first, then the sink
      // ends. Ending the sink itself while they waited here lost them ("write after end").
      // finished() also settles for a sink destroyed before it finished, which sends neither 'finish' nor
      // 'error': listeners for those two would wait forever.
      final: (cb) => {
        finished(inner, { readable: false }, (err) => cb(err ?? null));
        if (!inner.writableEnded) inner.end();
      },
    });
    // The runner listens on what it was given; a reader that went away downstream still counts.
    inner.once(READER_GONE, () => w.emit(READER_GONE));
    inner.on('error', (err) => w.destroy(err));
    return w;
  }
}
