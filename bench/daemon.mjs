// System mode: what an exec costs through outloopd, next to bare `node -e 0`, from interleaved runs in one
// process. Needs root (it installs under a temporary prefix and starts the daemon as the `outloop` user,
// as test/system does). Rows:
//   - the client alone: `outloop exec` against a stub socket that answers exit 0 at once, so the row is
//     the client's own start-up, connect and framing (the target: 1.2x node -e 0 or less);
//   - the whole exec through the real daemon (always sandboxed there: system mode ignores sandbox: off);
//   - the same exec started the moment the one before it ended: served while the spare that replaces
//     the last one warms up (the rows between give it time otherwise);
//   - the same two rows with the native client (native/client, what `outloop session` puts first on the
//     agent's PATH), when npm ci could build it;
//   - the same exec in personal mode, sandboxed and not, for comparison.
//
//   sudo node bench/daemon.mjs [rounds]
//
// Every row waits SETTLE_MS first, so one row's replacement spare does not warm up during the next.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const { encodeFrame } = createRequire(import.meta.url)('../dist/client.cjs');
const rounds = Number(process.argv[2] ?? 30);
const SETTLE_MS = 250;
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const bin = join(pkg, 'bin', 'outloop.js');
const nativeClient = join(pkg, 'native', 'client', 'build', 'Release', 'outloop');
if (process.getuid() !== 0) {
  console.error('bench/daemon.mjs needs root (it creates a system install under a temporary prefix)');
  process.exit(77);
}
for (const u of ['outloop']) if (spawnSync('getent', ['passwd', u]).status !== 0) spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', u]);
const prefix = mkdtempSync('/tmp/outloop-bench-sys-');
chmodSync(prefix, 0o755);
const r = spawnSync(process.execPath, [bin, 'system', 'install', '--prefix', prefix], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const project = join(prefix, 'project');
mkdirSync(project);
const config = `storeKey: file\ntenants:\n  bench:\n    projects: [${JSON.stringify(project)}]\n    services:\n      bench:\n        allow: ["*"]\n      benchoff:\n        allow: ["*"]\n        sandbox: off\n`;
writeFileSync(join(prefix, 'etc/outloop/config.yaml'), config);
for (const s of ['bench', 'benchoff']) writeFileSync(join(prefix, `etc/outloop/recipes/${s}.yaml`), `service: ${s}\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n`);
// Personal mode, same config.
const home = join(prefix, 'personal');
mkdirSync(join(home, 'recipes'), { recursive: true });
writeFileSync(join(home, 'config.yaml'), config);
for (const s of ['bench', 'benchoff']) writeFileSync(join(home, 'recipes', `${s}.yaml`), `service: ${s}\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n`);

const daemon = spawn('setpriv', ['--reuid=outloop', '--regid=outloop', '--init-groups', '--', process.execPath, join(pkg, 'bin', 'outloopd.js'), '--foreground', '--prefix', prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((res, rej) => {
  daemon.stdout.on('data', (d) => String(d).includes('ready') && res());
  daemon.once('exit', (c) => rej(new Error(`outloopd exited ${c}`)));
});
const stubSock = join(prefix, 'stub.sock');
const stub = createServer((c) => {
  c.once('data', () => c.end(encodeFrame({ t: 'exit', code: 0 })));
}).listen(stubSock);
chownSync(prefix, 0, 0);

const socket = join(prefix, 'run/outloop/broker.sock');
// Asynchronous spawns: the stub socket lives in this process and must keep answering.
const run = (args, env) => new Promise((res, rej) => {
  const t = process.hrtime.bigint();
  // A case whose first word is the native client runs it directly; the rest are node's arguments.
  const x = spawn(args[0] === nativeClient ? nativeClient : process.execPath, args[0] === nativeClient ? args.slice(1) : args, { cwd: project, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  x.stderr.on('data', (d) => (err += d));
  x.once('close', (code) => (code === 0 ? res(Number(process.hrtime.bigint() - t) / 1e6) : rej(new Error(`${args.join(' ')} exited ${code}: ${err}`))));
});
const cases = {
  'node -e 0': [['-e', '0'], {}],
  'client alone (stub daemon answers at once)': [[bin, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: stubSock }],
  'exec via outloopd (sandboxed)': [[bin, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: socket }],
  'exec via outloopd, right after another': [[bin, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: socket }, 'after'],
  ...(existsSync(nativeClient) ? {
    'native client alone (stub daemon)': [[nativeClient, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: stubSock }],
    'native client, exec via outloopd': [[nativeClient, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: socket }],
    'native client, right after another': [[nativeClient, 'exec', 'bench.noop'], { OUTLOOP_SOCKET: socket }, 'after'],
  } : {}),
  'personal mode exec, sandboxed': [[bin, 'exec', 'bench.noop'], { OUTLOOP_HOME: home, XDG_CACHE_HOME: join(prefix, 'cache') }],
  'personal mode exec, sandbox off': [[bin, 'exec', 'benchoff.noop'], { OUTLOOP_HOME: home, XDG_CACHE_HOME: join(prefix, 'cache') }],
};
try {
  for (const [args, env] of Object.values(cases)) await run(args, env);
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [k, [args, env, after]] of Object.entries(cases)) {
      // Each row starts on a settled machine: the spare that replaced the last request's worker has
      // warmed up (~60 ms of CPU), as between an agent's calls. The "right after another" rows measure
      // the other case on purpose.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      if (after) await run(args, env);
      times[k].push(await run(args, env));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times['node -e 0']);
  console.log(`system mode, median of ${rounds} interleaved runs (node ${process.version})`);
  for (const [k, xs] of Object.entries(times)) console.log(`  ${k.padEnd(44)} ${median(xs).toFixed(1).padStart(7)} ms  ${(median(xs) / base).toFixed(2)}x`);
} finally {
  stub.close();
  daemon.kill('SIGTERM');
  await new Promise((res) => daemon.once('exit', res));
  rmSync(prefix, { recursive: true, force: true });
}
