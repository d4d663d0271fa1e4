/**
 * The first process inside the sandbox's network namespace, where only loopback exists. It listens on
 * 127.0.0.1 (a free port), relays each TCP connection to the egress proxy's unix socket (bound in from
 * outside), and starts the real child with HTTP(S)_PROXY pointing at itself. It ignores the signals the
 * runner sends to the whole process group (the child gets them too and decides), and exits with the
 * child's status. Node resets inherited signal dispositions at start-up, so the child starts with
 * default handlers even though bwrap outside ignores them.
 *
 * Shipped as text and written into the run's support folder: the CLI is one bundle, and the script must
 * be a file the sandboxed node can read.
 *
 * It must never touch process.stdout or process.stderr while the child runs: they are the child's own
 * stdout and stderr (inherited), and node's lazy getters make a pipe or socket non-blocking (FIONBIO),
 * after which the child's writes fail with EAGAIN (curl: "(23) Failure writing output"). Readable#pipe
 * reads both getters (to decide whether to end the destination), so the relay below is written by hand.
 */
export const FORWARDER_SOURCE = String.raw`import { createServer, connect } from 'node:net';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
const [sock, sep, ...argv] = process.argv.slice(2);
if (!sock || sep !== '--' || !argv.length) { process.stderr.write('outloop forwarder: usage: SOCKET -- CMD...\n'); process.exit(70); }
const relay = (from, to) => {
  from.on('data', (d) => { if (!to.write(d)) from.pause(); });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
};
const server = createServer((c) => {
  const u = connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  relay(c, u);
  relay(u, c);
});
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(s, () => {});
server.listen(0, '127.0.0.1', () => {
  const url = 'http://127.0.0.1:' + server.address().port;
  const env = { ...process.env };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) env[k] = url;
  env.NO_PROXY = '';
  env.no_proxy = '';
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
  child.on('error', (e) => {
    process.stderr.write('outloop: cannot start ' + argv[0] + ' in the sandbox: ' + (e.code || e.message) + '\n');
    process.exit(e.code === 'ENOENT' ? 127 : 126);
  });
  child.on('exit', (code, sig) => process.exit(sig ? 128 + (constants.signals[sig] || 0) : code ?? 70));
});
`;

/** The proxy variables, for a child that reaches the proxy directly (no sandbox, or macOS). */
export function proxyEnv(url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) env[k] = url;
  env.NO_PROXY = '';
  env.no_proxy = '';
  return env;
}
