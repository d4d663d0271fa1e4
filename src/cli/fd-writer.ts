import { EventEmitter } from 'node:events';
import { fstatSync, writeSync } from 'node:fs';
import { setNonBlocking } from '../runner/native-spawn.js';
import type { OutputStream } from '../util/output-stream.js';

/**
 * exec's stdout or stderr: redacted bytes written to the descriptor itself. process.stdout is a stream
 * made at first use (about 1.8 ms for a pipe, which loads node:net, and 1 ms for a file) for what this
 * does in a few lines, the way node does it:
 * - a file or a terminal is written synchronously, as node's SyncWriteStream and tty.WriteStream do;
 * - a pipe or a socket is made non-blocking first (native/spawn), as libuv makes it when node opens one,
 *   so a reader that stalls never blocks the event loop: the recipe's timeout, signal forwarding and the
 *   redactor's idle release still run while the output waits. Without the addon, node's stream serves it.
 *
 * The first write the descriptor refuses (EAGAIN from a full pipe, EBADF from a closed descriptor, EPIPE)
 * hands that write and every later one to node's stream, which waits for room, discards, or reports the
 * error as it always did.
 */
export class FdWriter extends EventEmitter implements OutputStream {
  #stream: NodeJS.WriteStream | undefined;
  #checked = false;

  constructor(
    private readonly fd: number,
    private readonly nodeStream: () => NodeJS.WriteStream,
  ) {
    super();
  }

  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean {
    if (!this.#checked) this.#check();
    if (this.#stream) return this.#stream.write(chunk, cb);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done);
    } catch {
      return this.#handOver().write(bytes.subarray(done), cb);
    }
    // As a stream's: never before write() has returned.
    if (cb) process.nextTick(cb);
    return true;
  }

  /** Once, at the first write: which kind of descriptor this is, and a pipe made non-blocking. */
  #check(): void {
    this.#checked = true;
    let waits: boolean;
    try {
      const st = fstatSync(this.fd);
      waits = st.isFIFO() || st.isSocket();
    } catch {
      this.#handOver();
      return;
    }
    if (waits && !setNonBlocking(this.fd)) this.#handOver();
  }

  #handOver(): NodeJS.WriteStream {
    const s = (this.#stream = this.nodeStream());
    s.on('error', (err) => this.emit('error', err));
    return s;
  }
}
