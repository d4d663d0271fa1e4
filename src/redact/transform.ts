import { Transform } from 'node:stream';
import { IdleRelease } from './idle.js';
import { IDLE_MS, pushParts, type RedactorStream } from './stream.js';

export interface RedactTransformOptions {
  /** Called once at the end with the total number of replacements. */
  onCount?: (count: number) => void;
  /**
   * Release held bytes under the pause rule after this many ms without input (default IDLE_MS; 0 turns
   * it off). An interactive filter (`outloop redact` on a live log) must not sit on a prompt.
   */
  idleMs?: number;
}

/** A node:stream Transform that redacts through `stream`, releasing held bytes when the input pauses or ends. */
export function redactTransform(stream: RedactorStream, options: RedactTransformOptions = {}): Transform {
  const t: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        // Parts are pushed as they are: joining them would copy the write (see RedactorStream.pushParts).
        const parts = pushParts(stream, chunk);
        idle.after();
        for (const part of parts) t.push(part);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      idle.stop();
      try {
        const out = stream.end();
        options.onCount?.(stream.count);
        callback(null, out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err, callback) {
      idle.stop();
      callback(err);
    },
  });
  const idle = new IdleRelease(stream, (held) => t.push(held), (err) => t.destroy(err), options.idleMs ?? IDLE_MS);
  return t;
}
