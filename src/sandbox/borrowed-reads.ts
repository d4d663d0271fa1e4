import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** One TLS record's plaintext at most: node's TLS socket hands records over one at a time. */
export const RECORD_PLAINTEXT = 16 * 1024;

/** The names net.Socket keeps its `onread` option under (lib/net.js), found once on a socket made with it. */
interface ReadSlots {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}
let slots: ReadSlots | null | undefined;

function readSlots(): ReadSlots | null {
  if (slots !== undefined) return slots;
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as ConstructorParameters<typeof Socket>[0]);
  const own = Object.getOwnPropertySymbols(probe);
  const named = (d: string) => own.find((s) => s.description === d);
  const buffer = named('kBuffer');
  const callback = named('kBufferCb');
  const generator = named('kBufferGen');
  probe.destroy();
  slots = buffer && callback && generator ? { buffer, callback, generator } : null;
  return slots;
}

/**
 * Make a TLS socket that wraps an accepted connection read into one buffer of its own, as tls.connect's
 * documented `onread` does for a connection it dials (upstream-pool.ts). Node ignores `onread` for a
 * wrapped socket (lib/internal/tls/wrap.js passes `onread: !socket ? tlsOptions.onread : null`), and the
 * child's side of the placeholder proxy is always one. Read through 'data' events, each TLS record of an
 * upload came in fresh memory: with the page faults, the allocator and the major collections that much
 * external memory sets off, ~16 ms of the proxy's CPU per 16 MiB, twice the upload's decryption and
 * encryption together (docs/performance.md, stop 28).
 *
 * This sets on the socket what net.Socket's constructor sets for `onread`, and points the TLS handle at
 * the buffer, as net.Socket does once it has a handle (`useUserBuffer`). net.Socket's own pause() and
 * resume() already honour the same fields, so flow control is unchanged. These are node's internals: where
 * a release lacks one, this returns false and changes nothing, and the caller reads 'data' events.
 * `read` gets a view of the buffer, valid during the call: it consumes or copies the bytes before it
 * returns. The buffer is zeroed when the socket closes (it held a request with the credentials' sentinels).
 */
export function borrowReads(s: TLSSocket, size: number, read: (view: Buffer) => void): boolean {
  const handle = (s as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  const k = readSlots();
  if (!k || !handle || typeof handle.useUserBuffer !== 'function' || s.listenerCount('data') > 0) return false;
  const buffer = Buffer.allocUnsafeSlow(size);
  const fields = s as unknown as Record<symbol, unknown>;
  fields[k.buffer] = buffer;
  fields[k.generator] = null;
  fields[k.callback] = (n: number) => {
    read(buffer.subarray(0, n));
    return true;
  };
  (handle.useUserBuffer as (b: Buffer) => void).call(handle, buffer);
  s.once('close', () => buffer.fill(0));
  return true;
}
