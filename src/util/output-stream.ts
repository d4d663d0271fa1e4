/**
 * Where redacted output goes: process.stdout or process.stderr, or anything that writes like them
 * (src/cli/fd-writer.ts). Only what the sinks, the output contract and the sandbox's notes use.
 */
export interface OutputStream {
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}
