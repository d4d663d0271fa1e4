import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { newAuditId, type AuditLog } from '../audit/index.js';
import { openAuditLog } from '../audit/install.js';
import { DeniedError, type OutloopError } from '../errors.js';
import { detectSandbox, probeCacheFile } from '../sandbox/detect.js';
import { assertedTenant, classify, commandWords, isPerson, optionValue } from './access.js';
import { systemHomes, systemPaths, type SystemPaths } from './paths.js';
import { ancestry, loadAddon, loadPeercred, readStat, type PeerCred, type ProcStat } from './peer.js';
import { encodeFrame, FrameDecoder, parseHello, ProtocolError, STALL_MS, type Hello } from './protocol.js';
import type { Job } from './worker.js';

/**
 * outloopd: the broker under its own OS user. It owns the socket, learns each caller from the kernel,
 * refuses person-only commands from anyone who has not proved to be a person, binds requests from a
 * session's processes to its tenant, and hands each request to a fresh worker (worker.ts) that runs the
 * same command code as personal mode with the system homes.
 */

const WORKER_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
/** Requests run at once; more wait their turn (a queue, not a refusal). */
const MAX_ACTIVE = 8;
const SPARE_WORKERS = 2;
/** On SIGTERM, how long running requests get to stop their children and write their end records. */
const STOP_GRACE_MS = 5000;
/** stdin a client may send before its request has a worker (it waits in the queue meanwhile). */
const MAX_PENDING_STDIN = 8 << 20;

interface Session {
  tenant: string;
  pid: number;
  startTime: string;
  uid: number;
  /** Its client has gone, but the root process may still be there (see sessionOf). */
  ended?: boolean;
}

export interface DaemonOptions {
  prefix: string;
  packageRoot: string;
  log?: (line: string) => void;
  /** How long a begun frame may wait for its end (default STALL_MS). */
  stallMs?: number;
}

export class Daemon {
  readonly paths: SystemPaths;
  private server: Server | undefined;
  private readonly peercred: (fd: number) => PeerCred;
  private readonly spares: Promise<ChildProcess>[] = [];
  private readonly active = new Set<ChildProcess>();
  private readonly waiting: (() => void)[] = [];
  private readonly sessions = new Set<Session>();
  private readonly clients = new Set<Socket>();
  private readonly stallMs: number;
  private readonly audit: AuditLog;
  private readonly log: (line: string) => void;
  private stopping = false;

  constructor(private readonly opts: DaemonOptions) {
    this.paths = systemPaths(opts.prefix);
    this.peercred = loadPeercred(opts.packageRoot);
    // The one place the daemon builds its audit log (the keyed chain's options go here).
    // The same keyed chain, head file and journald copy as the workers' records: one chain, one key (the daemon's).
    this.audit = openAuditLog(systemHomes(this.paths));
    this.log = opts.log ?? ((l) => process.stderr.write(`outloopd: ${l}\n`));
    this.stallMs = opts.stallMs ?? STALL_MS;
  }

  async start(): Promise<void> {
    checkStateDir(this.paths.stateDir);
    // Every child runs as the daemon's user, which owns the store: only inside bwrap (the state folder
    // hidden) is that safe, so a machine without a working sandbox gets no daemon rather than a weaker one.
    const sandbox = detectSandbox(WORKER_ENV.PATH, process.platform, probeCacheFile(this.paths.stateDir));
    if (!sandbox.available) throw new Error(`system mode needs a working bubblewrap sandbox for its children: ${sandbox.why}`);
    await removeStaleSocket(this.paths.socket);
    for (let i = 0; i < SPARE_WORKERS; i++) this.spares.push(this.spawnWorker());
    const server = createServer((sock) => this.onConnection(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.paths.socket, () => resolve());
    });
    server.on('error', (err) => this.log(`socket error: ${err.message}`));
    // Anyone may connect; who they are is read from the kernel and decides what they may do.
    chmodSync(this.paths.socket, 0o666);
    // The socket answers only once a worker is ready, so `ready` means a request would be served.
    await this.spares[0];
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.server?.close();
    // Clients see the connection end without an exit frame (their exit 69); their requests' children are
    // stopped and the workers write their end records before the daemon exits.
    for (const c of this.clients) c.destroy();
    for (const w of this.active) w.kill('SIGHUP');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const w of this.active) w.kill('SIGKILL');
    for (const s of this.spares) void s.then((w) => w.kill('SIGKILL'), () => {});
    try {
      unlinkSync(this.paths.socket);
    } catch {
      /* already gone */
    }
  }

  private spawnWorker(): Promise<ChildProcess> {
    const file = join(this.opts.packageRoot, 'dist', 'load.cjs');
    const w = spawn(process.execPath, [file, 'worker', '--prefix', this.opts.prefix], {
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
      env: { ...WORKER_ENV, HOME: this.paths.stateDir },
      cwd: this.paths.stateDir,
    });
    const ready = new Promise<ChildProcess>((resolve, reject) => {
      w.once('message', () => resolve(w));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
    });
    // A spare that dies unused must not take the daemon down as an unhandled rejection.
    ready.catch((err: Error) => this.log(err.message));
    return ready;
  }

  private async takeWorker(): Promise<ChildProcess> {
    while (this.active.size >= MAX_ACTIVE) await new Promise<void>((r) => this.waiting.push(r));
    const next = this.spares.shift() ?? this.spawnWorker();
    // A spare that died (out of memory, killed) is replaced by a fresh one for this request.
    const w = await next.catch(() => this.spawnWorker());
    this.active.add(w);
    // The replacement starts once this request is done, so it does not compete with it for the CPU;
    // under load (no spare left) one starts at once.
    if (this.spares.length === 0) this.spares.push(this.spawnWorker());
    w.once('exit', () => {
      this.active.delete(w);
      if (!this.stopping && this.spares.length < SPARE_WORKERS) this.spares.push(this.spawnWorker());
      this.waiting.shift()?.();
    });
    return w;
  }

  private onConnection(sock: Socket): void {
    this.clients.add(sock);
    sock.once('close', () => this.clients.delete(sock));
    let cred: PeerCred;
    try {
      cred = this.peercred((sock as unknown as { _handle: { fd: number } })._handle.fd);
    } catch (err) {
      this.log(`dropped a connection without peer credentials: ${(err as Error).message}`);
      sock.destroy();
      return;
    }
    const dec = new FrameDecoder();
    let stall: NodeJS.Timeout | undefined;
    let hello: Hello | undefined;
    let worker: ChildProcess | undefined;
    const pendingStdin: (Buffer | null)[] = [];
    let closed = false;
    let session: Session | undefined;
    // The exit frame is sent: a worker still exiting is not a request the client left.
    let answered = false;

    const send = (msg: object): boolean => (closed ? true : sock.write(encodeFrame(msg)));
    const fail = (err: ProtocolError) => {
      clearTimeout(stall);
      this.log(`uid ${cred.uid} pid ${cred.pid}: ${err.code}: ${err.message}`);
      send({ t: 'error', code: err.code, message: err.message, next: err.code === 'version_mismatch' ? 'Use the outloop that matches this outloopd (restart outloopd after an upgrade).' : 'This is a bug in the client or not an outloop client.', exit: err.code === 'version_mismatch' ? 69 : 64 });
      sock.end();
      closed = true;
      worker?.kill('SIGHUP');
    };
    let pendingBytes = 0;
    const feed = (b: Buffer | null) => {
      if (!worker) {
        // Waiting for a worker: hold a bounded amount, then it is the client's problem, not the daemon's memory.
        pendingBytes += b?.length ?? 0;
        if (pendingBytes > MAX_PENDING_STDIN) return fail(new ProtocolError('frame_too_large', `more than ${MAX_PENDING_STDIN} bytes of stdin before the request started`));
        pendingStdin.push(b);
      } else if (b === null) worker.stdin?.end();
      // A worker that reads slowly slows the client down (backpressure), instead of filling the daemon.
      else if (worker.stdin && !worker.stdin.write(b)) {
        sock.pause();
        worker.stdin.once('drain', () => sock.resume());
      }
    };

    sock.on('data', (chunk: Buffer) => {
      if (closed) return;
      let frames: unknown[];
      try {
        frames = dec.push(chunk);
      } catch (err) {
        return fail(err as ProtocolError);
      }
      clearTimeout(stall);
      if (dec.partial) stall = setTimeout(() => fail(new ProtocolError('stalled', `a frame was begun and not finished within ${this.stallMs} ms`)), this.stallMs);
      for (const f of frames) {
        const m = f as { t: string; d?: unknown };
        if (!hello) {
          try {
            hello = parseHello(f);
          } catch (err) {
            return fail(err as ProtocolError);
          }
          void this.serve(hello, cred, sock, send, (w) => {
            worker = w;
            if (closed) w.kill('SIGHUP'); // the client left while the request waited for a worker
            for (const b of pendingStdin.splice(0)) feed(b);
          }, (s) => (session = s), () => (answered = true)).catch((err) => {
            this.log(`request failed: ${(err as Error).message}`);
            send({ t: 'error', code: 'internal', message: `outloopd could not serve the request: ${(err as Error).message}`, next: 'Check the daemon log (journalctl -u outloopd).', exit: 70 });
            sock.end();
          });
        } else if (m.t === 'stdin' && typeof m.d === 'string') feed(Buffer.from(m.d, 'base64'));
        else if (m.t === 'stdin-end') feed(null);
        else return fail(new ProtocolError('bad_frame', `unexpected frame "${m.t}"`));
      }
    });
    // The client went away: its request's child is stopped (SIGHUP, as a terminal hang-up), and the
    // worker's end record says so. A session ends with its client.
    sock.on('close', () => {
      closed = true;
      clearTimeout(stall);
      if (worker && !answered && worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGHUP');
        if (!this.stopping) void this.recordGone(cred, hello);
      }
      // Kept, marked ended, while its root lives: see sessionOf.
      if (session) session.ended = true;
    });
    sock.on('error', () => {});
  }

  private async serve(hello: Hello, cred: PeerCred, sock: Socket, send: (m: object) => boolean, attach: (w: ChildProcess) => void, onSession: (s: Session) => void, answered: () => void): Promise<void> {
    const json = hello.argv.includes('--json');
    const refuse = async (err: OutloopError, extra: Record<string, unknown> = {}) => {
      const words = commandWords(hello.argv);
      await this.audit.append({
        id: newAuditId(), phase: 'end', mode: 'system', project: null, tenant: null, service: null, recipe: null,
        decision: 'deny', code: err.code, reason: err.message, exitCode: err.exitCode, durationMs: null, redactions: 0,
        command: words.join(' '), peer: { uid: cred.uid, gid: cred.gid, pid: cred.pid }, ...extra,
      });
      if (json) send({ t: 'out', d: Buffer.from(`${JSON.stringify({ ok: false, decision: 'deny', code: err.code, reason: err.message, next: err.next })}\n`).toString('base64') });
      else send({ t: 'err', d: Buffer.from(`outloop: denied: ${err.message} [${err.code}]\nnext: ${err.next}\n`).toString('base64') });
      send({ t: 'exit', code: err.exitCode });
    };

    const access = classify(hello.argv);
    if (access !== 'agent' && !isPerson(cred.uid)) {
      const what = access === 'session' ? 'starting an agent session' : `\`outloop ${commandWords(hello.argv).join(' ')}\``;
      return refuse(new DeniedError('person_only', `${what} is for a person, and uid ${cred.uid} has not proved it is one (a terminal is not proof)`,
        'A person runs it with sudo in their own terminal, e.g. `sudo outloop approve ID`.'));
    }
    if (access === 'session') {
      const tenant = assertedTenant(hello.argv);
      const usage = (message: string) => send({ t: 'error', code: 'usage', message, next: 'Run `sudo outloop session --tenant T -- CMD...`, or `sudo outloop session --tenant T --pid PID` for an agent already running.', exit: 64 });
      if (!tenant) return void usage('outloop session needs --tenant T');
      // The root is the caller itself, or (--pid) a running agent the person names.
      const named = optionValue(hello.argv, '--pid');
      const root = named === undefined ? readStat(cred.pid) : /^[1-9]\d{0,9}$/.test(named) ? readStat(Number(named)) : undefined;
      if (!root) return void usage(named === undefined ? 'the session\'s process is gone' : `--pid ${named}: no such running process`);
      // init, systemd or outloopd itself as a root would bind every process on the machine, the daemon's children too.
      if (named !== undefined && ancestry(process.pid).some((p) => p.pid === root.pid)) {
        return void usage(`--pid ${named} is outloopd or one of its ancestors: every process descends from it`);
      }
      const s: Session = { tenant, pid: root.pid, startTime: root.startTime, uid: cred.uid };
      this.sessions.add(s);
      onSession(s);
      send({ t: 'session', tenant });
      return;
    }

    const env: Record<string, string> = { ...hello.env };
    const session = this.sessionOf(cred.pid);
    if (session?.ended) {
      return refuse(new DeniedError('session_ended', `this process belongs to an agent session for tenant "${session.tenant}" that has ended`,
        'Stop: a person starts a new session (`sudo outloop session --tenant T -- CMD`).'), { tenant: session.tenant, session: session.pid });
    }
    if (session) {
      const claimed = assertedTenant(hello.argv) ?? hello.env.OUTLOOP_TENANT;
      if (claimed !== undefined && claimed !== '' && claimed !== session.tenant) {
        return refuse(new DeniedError('wrong_tenant', `this agent session is bound to tenant "${session.tenant}", but the request asserts tenant "${claimed}"`,
          `Stop: run "${session.tenant}"'s own recipes; a person starts a separate session for "${claimed}".`), { tenant: session.tenant, session: session.pid });
      }
      // The session's tenant is asserted for the request: a project of another tenant is wrong_tenant.
      env.OUTLOOP_TENANT = session.tenant;
    }
    const w = await this.takeWorker();
    const words = commandWords(hello.argv);
    const job: Job = { argv: hello.argv, cwd: hello.cwd, env, peer: cred, ...(session ? { session: session.tenant, sessionRoot: session.pid } : {}), stdinTty: hello.stdinTty && (words[0] === 'approve' || words[0] === 'deny') };
    // A client that does not read its output pauses the worker's pipes (and so the child), not the daemon's memory.
    const relay = (stream: NodeJS.ReadableStream, t: 'out' | 'err') =>
      stream.on('data', (d: Buffer) => {
        if (!send({ t, d: d.toString('base64') })) {
          stream.pause();
          sock.once('drain', () => stream.resume());
        }
      });
    relay(w.stdout!, 'out');
    relay(w.stderr!, 'err');
    w.stdin!.on('error', () => {});
    const done = Promise.all([
      new Promise<number>((resolve) => {
        // `done` (worker.ts): the request is over and its output pipes are ended, while the process may
        // still be exiting. A worker that dies first ends the request with its exit.
        w.once('message', (m: { t?: unknown; code?: unknown }) => {
          if (m?.t === 'done' && Number.isInteger(m.code) && (m.code as number) >= 0 && (m.code as number) <= 255) resolve(m.code as number);
        });
        w.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGHUP' ? 129 : 70)));
      }),
      new Promise((r) => w.stdout!.once('close', r)),
      new Promise((r) => w.stderr!.once('close', r)),
    ]);
    attach(w);
    w.send(job);
    const [code] = await done;
    answered();
    send({ t: 'exit', code });
  }

  /** A request whose client went away mid-run: said in the audit log, next to the run's own end record. */
  private async recordGone(cred: PeerCred, hello: Hello | undefined): Promise<void> {
    try {
      await this.audit.append({
        id: newAuditId(), phase: 'end', mode: 'system', project: null, tenant: null, service: null, recipe: null,
        decision: 'error', code: 'client_gone', reason: 'the client disconnected during the request; its child was stopped (SIGHUP, exit 129)',
        exitCode: 129, durationMs: null, redactions: 0, command: commandWords(hello?.argv ?? []).join(' '), peer: { uid: cred.uid, gid: cred.gid, pid: cred.pid },
      });
    } catch (err) {
      this.log(`cannot record a client's disconnect: ${(err as Error).message}`);
    }
  }

  /**
   * The session a caller's process belongs to: its pid or an ancestor's, with the same start time.
   * A session whose connection has closed is still found while its root process exists (an exiting
   * process's files are closed before its children are handed on): a process whose chain passes through
   * it is denied `session_ended` rather than bound by its folder, which would be looser than the session
   * was. Normally there is none: the root stops what CMD left behind before it ends the session. Once the
   * root is gone (pid freed, or reused with another start time) no chain can pass through it, and the
   * record is dropped.
   */
  private sessionOf(pid: number): Session | undefined {
    for (const s of this.sessions) if (s.ended && readStat(s.pid)?.startTime !== s.startTime) this.sessions.delete(s);
    return this.sessions.size === 0 ? undefined : sessionFor(ancestry(pid), this.sessions);
  }
}

/** The nearest session whose root is in the chain with the same start time (a reused pid is someone else). */
export function sessionFor<S extends { pid: number; startTime: string }>(chain: readonly ProcStat[], sessions: Iterable<S>): S | undefined {
  for (const p of chain) {
    for (const s of sessions) if (s.pid === p.pid && s.startTime === p.startTime) return s;
  }
  return undefined;
}

function checkStateDir(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`${dir} is missing; run \`sudo outloop system install\` first`);
  }
  if (st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be owned by the daemon's user (uid ${process.getuid!()}) with mode 0700; it is uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`);
  }
}

/** A socket file left by a daemon that died is removed; one that answers means outloopd already runs. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const answers = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (answers) throw new Error(`another outloopd is already answering on ${path}`);
  unlinkSync(path);
}

export async function daemonMain(argv: string[], packageRoot: string): Promise<number> {
  let prefix = '/';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--prefix') prefix = argv[++i] ?? '';
    else if (a.startsWith('--prefix=')) prefix = a.slice(9);
    else if (a === '--foreground') continue;
    else {
      process.stderr.write(`outloopd: unknown option ${a}\nusage: outloopd --foreground [--prefix DIR]\n`);
      return 64;
    }
  }
  if (!prefix.startsWith('/')) {
    process.stderr.write('outloopd: --prefix must be an absolute path\n');
    return 64;
  }
  if (process.getuid!() === 0) {
    process.stderr.write('outloopd: refusing to run as root: run it as its own user (systemd does; by hand: setpriv --reuid=outloop --regid=outloop --init-groups outloopd --foreground)\n');
    return 77;
  }
  // The stall limit is the daemon's own setting (whoever starts it), never a client's.
  const stallMs = Number(process.env.OUTLOOPD_STALL_MS) || undefined;
  const d = new Daemon({ prefix, packageRoot, ...(stallMs ? { stallMs } : {}) });
  try {
    // The unit's LimitCORE=0 however outloopd was started: neither its memory nor a worker's (which holds
    // values during a request) goes to a core file, and its children need no wrapper shell for that.
    loadAddon(packageRoot).noCoreDumps();
    await d.start();
  } catch (err) {
    process.stderr.write(`outloopd: cannot start: ${(err as Error).message}\n`);
    await d.stop();
    return 78;
  }
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  await d.stop();
  return 0;
}
