import { EventEmitter } from 'node:events';
import { writeSync } from 'node:fs';
import type { OutputStream } from '../util/output-stream.js';

/**
 * exec's stdout or stderr: redacted bytes written to the descriptor itself. process.stdout is a stream
 * made at first use (about 1.8 ms for a pipe, which loads node:net, and 1 ms for a file), and on Linux
 * and macOS it writes to pipes, files and terminals synchronously, as this does.
 *
 * The first write that the descriptor refuses hands that write, and all later ones, to node's stream. A
 * descriptor someone set non-blocking (EAGAIN) then gets node's waiting, a closed one (EBADF) node's
 * silent discard, and a reader that left (EPIPE) node's error: the same results as before, on paths that
 * are rare.
 */
export class FdWriter extends EventEmitter implements OutputStream {
  #stream: NodeJS.WriteStream | undefined;

  constructor(
    private readonly fd: number,
    private readonly nodeStream: () => NodeJS.WriteStream,
  ) {
    super();
  }

  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean {
    if (this.#stream) return this.#stream.write(chunk, cb);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done);
    } catch {
      const s = (this.#stream = this.nodeStream());
      s.on('error', (err) => this.emit('error', err));
      return s.write(bytes.subarray(done), cb);
    }
    // As a stream's: never before write() has returned.
    if (cb) process.nextTick(cb);
    return true;
  }
}
