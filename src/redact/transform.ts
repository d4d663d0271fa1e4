import { Transform } from 'node:stream';
import { IDLE_MS, type RedactorStream } from './stream.js';

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
  const idleMs = options.idleMs ?? IDLE_MS;
  let timer: NodeJS.Timeout | undefined;
  const disarm = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  const t: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        const out = stream.push(chunk);
        if (idleMs > 0 && stream.pending > 0) {
          if (timer !== undefined) timer.refresh();
          else
            timer = setTimeout(() => {
              timer = undefined;
              try {
                const held = stream.idle();
                if (held.length > 0) t.push(held);
              } catch (err) {
                t.destroy(err as Error);
              }
            }, idleMs).unref();
        } else disarm();
        callback(null, out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      disarm();
      try {
        const out = stream.end();
        options.onCount?.(stream.count);
        callback(null, out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err, callback) {
      disarm();
      callback(err);
    },
  });
  return t;
}
