import { Writable } from 'node:stream';
import { createHmac } from 'node:crypto';
import { installKey } from '../audit/fingerprint.js';
import { READER_GONE } from '../runner/spawn.js';
import { parseDuration } from '../util/duration.js';
import { CastWriter, sweepRecordings } from '../recording/writer.js';
import type { OutputContract } from './contract.js';
import { OutputContractError } from './errors.js';
import { shapeOutput } from './shape.js';
import type { OutputStream } from '../util/output-stream.js';
import type { Sink } from '../runner/sink.js';

/**
 * The broker's side of output contracts and recordings, so src/broker/exec.ts only wires it in:
 *
 * - with a contract, the child's redacted stdout is collected (never streamed) up to maxBytes; past that
 *   the child is stopped the way a closed pipe stops it (SIGPIPE) and the run fails `output_too_large`.
 *   At the end the output is shaped, passed through the redactor once more (parsing JSON decodes escapes
 *   like \u0041, which could rebuild a value the byte redactor could not see), and only then shown;
 * - with a recording, every redacted (and shaped) byte that is shown is also written to the cast file.
 */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export interface RunOutputOptions {
  contract: OutputContract | undefined;
  record: boolean;
  auditId: string;
  /** exec or mcp, for the recording's title. */
  mode: string;
  stateDir: string;
  tenant: string;
  target: string;
  retention: string | undefined;
  redact: (text: string) => { text: string; count: number };
  /** The child's stdout as the caller shows it: a stream, or collected for --json / MCP. */
  stdout: OutputStream | 'collect';
}

/** What the end record carries: counts and a link, never a value. */
export interface RunOutputExtras {
  shaped?: { format: string; picked: number; masked: number; pii: number; bytesIn: number; bytesOut: number };
  recording?: { id: string; sha256: string };
}

class BoundedCollector extends Writable {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  overflowed = false;
  constructor(
    readonly limit: number,
    private readonly onOverflow: () => void,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.overflowed) {
      this.bytes += chunk.length;
      if (this.bytes > this.limit) {
        this.overflowed = true;
        this.chunks.length = 0;
        this.onOverflow();
      } else this.chunks.push(chunk);
    }
    cb();
  }
}

export class RunOutput {
  readonly extras: RunOutputExtras = {};
  readonly #o: RunOutputOptions;
  readonly #cast: CastWriter | undefined;
  readonly #collector: BoundedCollector | undefined;
  #sink: Sink | undefined;

  constructor(o: RunOutputOptions) {
    this.#o = o;
    if (o.contract) this.#collector = new BoundedCollector(o.contract.maxBytes ?? DEFAULT_MAX_BYTES, () => this.#sink?.emit(READER_GONE));
    if (o.record) {
      const retention = parseDuration(o.retention ?? '30d') ?? 30 * 86_400_000;
      sweepRecordings(o.stateDir, retention);
      this.#cast = new CastWriter(o.stateDir, o.auditId, {
        width: 120,
        height: 40,
        timestamp: Math.floor(Date.now() / 1000),
        title: `outloop ${o.mode} ${o.target} (${o.auditId})`,
        env: { TERM: 'xterm-256color' },
      });
    }
  }

  /** Where the stdout redactor writes: the collector under a contract, else the caller's own. */
  get stdoutDest(): OutputStream | 'collect' {
    return this.#collector ?? this.#o.stdout;
  }

  /** A tap after redaction for the recording; none for stdout under a contract (shaped bytes go in at the end). */
  tap(stream: 'stdout' | 'stderr'): ((bytes: Buffer) => void) | undefined {
    const cast = this.#cast;
    if (!cast || (stream === 'stdout' && this.#collector)) return undefined;
    return (bytes) => cast.output(stream, bytes);
  }

  /** The stdout sink, so an overflow can stop the child through the runner's closed-reader path. */
  bind(stdoutSink: Sink): void {
    this.#sink = stdoutSink;
  }

  /**
   * After the child ended and the sinks flushed: shape and show stdout under a contract. Returns the
   * text the caller collects (for --json) and the extra redactions; throws OutputContractError.
   */
  async finish(run: { exitCode: number; timedOut: boolean }, collected: string): Promise<{ stdout: string; redactions: number }> {
    const c = this.#o.contract;
    const col = this.#collector;
    if (!c || !col) return { stdout: collected, redactions: 0 };
    const what = `${this.#o.target} (exit ${run.exitCode})`;
    if (col.overflowed) {
      throw new OutputContractError('output_too_large', `${what} printed more than the output contract's ${col.limit} bytes; it was stopped and nothing was shown`,
        'Ask for less (a smaller limit or page size), or ask a person to raise output.maxBytes.');
    }
    // A run that timed out left half a document: report the timeout, show nothing unshaped.
    if (run.timedOut) return { stdout: '', redactions: 0 };
    const raw = Buffer.concat(col.chunks).toString('utf8');
    const key = createHmac('sha256', installKey(this.#o.stateDir)).update(`outloop output-mask v1\0${this.#o.tenant}`).digest();
    const res = shapeOutput(raw, c, key);
    if (!res.ok) {
      throw new OutputContractError('output_not_json', `${what} printed ${col.bytes} bytes that are not JSON (${res.expected} at character ${res.offset}); its output contract lets only JSON through, so nothing was shown`,
        'Check the parameters (an error page is not JSON); a person can see the attempt with `outloop audit show ID`.');
    }
    const again = this.#o.redact(res.shaped.text);
    const { picked, masked, pii } = res.shaped;
    this.extras.shaped = { format: c.format, picked, masked, pii, bytesIn: col.bytes, bytesOut: Buffer.byteLength(again.text) };
    const bytes = Buffer.from(again.text, 'utf8');
    this.#cast?.output('stdout', bytes);
    const dest = this.#o.stdout;
    if (dest !== 'collect' && bytes.length) {
      await new Promise<void>((resolve) => {
        // A reader that went away is the caller's business (exit 141 paths); shaping is done either way.
        const done = () => resolve();
        dest.once('error', done);
        dest.write(bytes, () => {
          dest.off('error', done);
          resolve();
        });
      });
    }
    return { stdout: dest === 'collect' ? again.text : '', redactions: again.count };
  }

  /** Close the recording (whatever happened) and link it; `shown` is an error line outloop printed instead. */
  close(shown?: { code: string; message: string; next?: string | undefined }): void {
    if (!this.#cast) return;
    if (shown) this.#cast.note(`outloop: ${shown.message} [${shown.code}]\n${shown.next ? `next: ${shown.next}\n` : ''}`);
    const r = this.#cast.finish();
    this.extras.recording = { id: r.id, sha256: r.sha256 };
  }
}
