import { connect } from 'node:net';
import { isatty } from 'node:tty';
import { encodeFrame, FrameDecoder, PASSED_ENV, PROTOCOL_VERSION, type DaemonFrame, type Hello } from './protocol.js';

/**
 * `outloop` in system mode: a thin client of outloopd. It reads no config, store or state and holds no
 * value, so NODE_OPTIONS, strace, gdb or a core dump of it find nothing. It sends argv, the working
 * directory and a few presentation variables, relays stdin for the commands that read it, and prints
 * what the daemon sends back. Kept to node:net and the protocol module: this is the hot path.
 */

export const DEFAULT_SOCKET = '/run/outloop/broker.sock';
const EX_UNAVAILABLE = 69;
/** Commands whose stdin carries data: a filter, a value, the MCP protocol, a typed confirmation. */
const READS_STDIN = new Set(['redact', 'secrets', 'audit', 'approve', 'deny', 'mcp', 'run', 'import']);

function unavailable(socket: string, what: string): number {
  process.stderr.write(`outloop: ${what} [daemon_unavailable]\nnext: A person checks the daemon (systemctl status outloopd) and the socket ${socket}; outloop does not fall back to personal mode.\n`);
  return EX_UNAVAILABLE;
}

export function runClient(argv: string[], socket: string): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(socket);
    let finished = false;
    // process.stdin is made on first use (a file or pipe stream, and the modules behind it): only for
    // the commands that read it. isatty(0) answers the terminal question without it.
    let readsStdin = false;
    const stdinTty = isatty(0);
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      sock.destroy();
      if (readsStdin) process.stdin.pause();
      resolve(code);
    };
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (!finished) finish(unavailable(socket, `cannot reach the outloop daemon at ${socket} (${err.code ?? err.message})`));
    });
    sock.once('connect', () => {
      const env: Hello['env'] = {};
      for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
      const hello: Hello = { t: 'hello', v: PROTOCOL_VERSION, argv, cwd: process.cwd(), env, stdinTty };
      sock.write(encodeFrame(hello));
      const cmd = argv.find((a) => !a.startsWith('-'));
      if (cmd === 'secrets' && argv.includes('set') && stdinTty) {
        // The daemon has no terminal: the value is asked for here, hidden, and sent as stdin.
        // personal mode's prompt, loaded only here (the hot path stays node:net and the protocol).
        const ref = argv[argv.indexOf('set') + 1] ?? 'the secret';
        readsStdin = true;
        void import('../cli/prompt.js').then((m) => m.readSecretValue(ref)).then((v) => {
          sock.write(encodeFrame({ t: 'stdin', d: Buffer.from(v).toString('base64') }));
          sock.write(encodeFrame({ t: 'stdin-end' }));
        }, () => finish(130));
      } else if (cmd !== undefined && READS_STDIN.has(cmd)) {
        readsStdin = true;
        process.stdin.on('data', (d: Buffer) => {
          // Frames stay well under the limit whatever size the reads come in.
          for (let i = 0; i < d.length; i += 256 * 1024) sock.write(encodeFrame({ t: 'stdin', d: d.subarray(i, i + 256 * 1024).toString('base64') }));
        });
        process.stdin.once('end', () => sock.write(encodeFrame({ t: 'stdin-end' })));
        process.stdin.on('error', () => {});
      }
    });
    const dec = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      let frames: DaemonFrame[];
      try {
        frames = dec.push(chunk) as DaemonFrame[];
      } catch (err) {
        return finished || finish(unavailable(socket, `the outloop daemon sent a bad frame (${(err as Error).message})`));
      }
      for (const f of frames) {
        if (f.t === 'out') process.stdout.write(Buffer.from(f.d, 'base64'));
        else if (f.t === 'err') process.stderr.write(Buffer.from(f.d, 'base64'));
        else if (f.t === 'exit') return finish(f.code);
        else if (f.t === 'error') {
          process.stderr.write(`outloop: ${f.message} [${f.code}]\nnext: ${f.next}\n`);
          return finish(f.exit);
        } else if ((f as { t: string }).t === 'session') onSession?.(sock, finish);
      }
    });
    sock.once('close', () => {
      if (!finished) finish(unavailable(socket, 'the outloop daemon went away before the request finished (restarted or stopped); what happened is in its audit log'));
    });
  });
}

/** Set by the session command: what to do once the daemon has registered the session. */
let onSession: ((sock: import('node:net').Socket, finish: (code: number) => void) => void) | undefined;
export function setSessionHandler(fn: typeof onSession): void {
  onSession = fn;
}

