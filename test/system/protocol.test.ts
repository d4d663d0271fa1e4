import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME, parseHello, PROTOCOL_VERSION, ProtocolError } from '../../src/system/protocol.js';

const hello = { t: 'hello', v: PROTOCOL_VERSION, argv: ['exec', 'a.b'], cwd: '/tmp', env: {}, stdinTty: false };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return undefined;
}

describe('socket framing', () => {
  it('round-trips frames split at every byte boundary', () => {
    const bytes = Buffer.concat([encodeFrame(hello), encodeFrame({ t: 'stdin', d: 'aGk=' })]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const dec = new FrameDecoder();
      const got = [...dec.push(bytes.subarray(0, cut)), ...dec.push(bytes.subarray(cut))];
      expect(got).toEqual([hello, { t: 'stdin', d: 'aGk=' }]);
      expect(dec.partial).toBe(false);
    }
  });

  it('refuses an oversized frame from its header, before buffering the body', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME + 1, 0);
    expect(code(() => new FrameDecoder().push(head))).toBe('frame_too_large');
    expect(code(() => encodeFrame({ t: 'out', d: 'x'.repeat(MAX_FRAME) }))).toBe('frame_too_large');
  });

  it('refuses malformed JSON and non-objects', () => {
    const raw = (s: string) => {
      const b = Buffer.from(s);
      const h = Buffer.alloc(4);
      h.writeUInt32BE(b.length, 0);
      return Buffer.concat([h, b]);
    };
    expect(code(() => new FrameDecoder().push(raw('{nope')))).toBe('bad_frame');
    expect(code(() => new FrameDecoder().push(raw('[1]')))).toBe('bad_frame');
    expect(code(() => new FrameDecoder().push(raw('{"x":1}')))).toBe('bad_frame');
  });

  it('reports a partial frame, so a stalled client can be timed out', () => {
    const dec = new FrameDecoder();
    dec.push(encodeFrame(hello).subarray(0, 7));
    expect(dec.partial).toBe(true);
  });

  it('checks the hello: version, argv, cwd, and passes on only the listed variables', () => {
    expect(code(() => parseHello({ ...hello, v: 2 }))).toBe('version_mismatch');
    expect(code(() => parseHello({ t: 'stdin', d: '' }))).toBe('bad_hello');
    expect(code(() => parseHello({ ...hello, argv: [1] }))).toBe('bad_hello');
    expect(code(() => parseHello({ ...hello, cwd: 'relative' }))).toBe('bad_hello');
    const h = parseHello({ ...hello, env: { OUTLOOP_TENANT: 'acme', OUTLOOP_HOME: '/evil', XDG_CONFIG_HOME: '/evil', NODE_OPTIONS: '--require x' } });
    expect(h.env).toEqual({ OUTLOOP_TENANT: 'acme' });
  });
});
