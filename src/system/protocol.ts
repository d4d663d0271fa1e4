/**
 * The socket protocol between the `outloop` client and `outloopd`: frames of a 4-byte big-endian length
 * and that many bytes of UTF-8 JSON, one object each. Pure: no sockets or timers here, so every way a
 * frame can be wrong is tested without a daemon.
 *
 * A connection starts with the client's hello (the protocol version, argv, cwd, a few presentation
 * variables); the daemon answers with output frames and one exit frame, or one error frame. The daemon
 * never takes uid, gid or pid from a frame: those come from the kernel (SO_PEERCRED).
 */

export const PROTOCOL_VERSION = 1;
/** Larger than any request line or output chunk the client sends or the daemon relays. */
export const MAX_FRAME = 1 << 20;
/** A frame begun and not finished within this long is a stalled client; it is dropped. */
export const STALL_MS = 5000;

/** Variables the client may pass on. Presentation and the tenant *assertion* only, never a path. */
export const PASSED_ENV = ['OUTLOOP_TENANT', 'NO_COLOR', 'FORCE_COLOR', 'TERM', 'COLUMNS'] as const;

export interface Hello {
  t: 'hello';
  v: number;
  argv: string[];
  cwd: string;
  env: Partial<Record<(typeof PASSED_ENV)[number], string>>;
  /** The client's stdin is a terminal (a person typing `yes` to approve). */
  stdinTty: boolean;
}

export type ClientFrame = Hello | { t: 'stdin'; d: string } | { t: 'stdin-end' };
export type DaemonFrame =
  | { t: 'out'; d: string }
  | { t: 'err'; d: string }
  | { t: 'exit'; code: number }
  | { t: 'error'; code: string; message: string; next: string; exit: number };

export class ProtocolError extends Error {
  readonly code: string;
  constructor(code: 'frame_too_large' | 'bad_frame' | 'bad_hello' | 'version_mismatch' | 'stalled', message: string) {
    super(message);
    this.code = code;
  }
}

export function encodeFrame(msg: object): Buffer {
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  if (body.length > MAX_FRAME) throw new ProtocolError('frame_too_large', `frame of ${body.length} bytes is over the ${MAX_FRAME}-byte limit`);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Splits a byte stream into frames. An oversized length is refused from its 4-byte header, before any of
 * the body is buffered, so a client cannot make the daemon hold more than one frame's worth.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly max: number = MAX_FRAME) {}

  /** True while part of a frame is waiting for the rest (what a stall timer watches). */
  get partial(): boolean {
    return this.buf.length > 0;
  }

  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > this.max) throw new ProtocolError('frame_too_large', `frame of ${len} bytes is over the ${this.max}-byte limit`);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch {
        throw new ProtocolError('bad_frame', 'a frame is not valid JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || typeof (msg as { t?: unknown }).t !== 'string') {
        throw new ProtocolError('bad_frame', 'a frame is not an object with a type');
      }
      out.push(msg);
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }
}

/** Check the first frame of a connection: the right version and well-formed fields, nothing extra trusted. */
export function parseHello(msg: unknown): Hello {
  const m = msg as Partial<Hello>;
  if (m.t !== 'hello') throw new ProtocolError('bad_hello', 'the first frame must be a hello');
  if (m.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('version_mismatch', `client speaks protocol ${String(m.v)}, this daemon speaks ${PROTOCOL_VERSION}`);
  }
  if (!Array.isArray(m.argv) || !m.argv.every((a) => typeof a === 'string') || m.argv.length > 4096) {
    throw new ProtocolError('bad_hello', 'hello.argv must be a list of strings');
  }
  if (typeof m.cwd !== 'string' || !m.cwd.startsWith('/') || m.cwd.includes('\0')) throw new ProtocolError('bad_hello', 'hello.cwd must be an absolute path');
  const env: Hello['env'] = {};
  const given = (m.env ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || given === null) throw new ProtocolError('bad_hello', 'hello.env must be an object');
  for (const k of PASSED_ENV) {
    const v = given[k];
    if (typeof v === 'string' && !v.includes('\0')) env[k] = v;
  }
  return { t: 'hello', v: PROTOCOL_VERSION, argv: m.argv, cwd: m.cwd, env, stdinTty: m.stdinTty === true };
}
