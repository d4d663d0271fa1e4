import { Transform } from 'node:stream';
import type { RedactorStream } from './stream.js';

export interface RedactTransformOptions {
  /** Called once at the end with the total number of replacements. */
  onCount?: (count: number) => void;
}

/** A node:stream Transform that redacts through `stream`, releasing held bytes when the input ends. */
export function redactTransform(stream: RedactorStream, options: RedactTransformOptions = {}): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        const out = stream.push(chunk);
        callback(null, out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        const out = stream.end();
        options.onCount?.(stream.count);
        callback(null, out.length > 0 ? out : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
