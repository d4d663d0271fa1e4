#!/usr/bin/env node
// The installed command. Kept tiny: it checks the Node version and hands over to the bundled CLI.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`outloop: Node.js 20.19 or newer is required (this is ${process.versions.node})\n`);
  process.exit(64);
}
// Tools probe the version often: answer it from one tiny module, not the CLI (18 files to compile).
const argv = process.argv.slice(2);
// System mode: when OUTLOOP_SOCKET is set or a system install exists, outloop is only a client of
// outloopd and loads nothing else (no config, store or state of the caller's). `system` sets it up.
const fs = process.getBuiltinModule('node:fs');
const socket = argv[0] === 'system' ? '' : process.env.OUTLOOP_SOCKET || (fs.existsSync('/etc/outloop/system.json') || fs.existsSync('/run/outloop/broker.sock') ? '/run/outloop/broker.sock' : '');
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { VERSION } = await import('../dist/version.mjs');
  process.stdout.write(`${VERSION}\n`);
} else if (socket) {
  const { runClient, prepareSession, initAgent } = await import('../dist/client.mjs');
  // A session's root loads the peercred addon (it becomes a subreaper) from the package, found from here.
  const s = argv[0] === 'session' ? await prepareSession(argv, new URL('..', import.meta.url)) : { argv };
  if (argv[0] === 'init' && argv.some((a) => a === '--agent' || a.startsWith('--agent='))) {
    process.exitCode = await initAgent(argv, socket);
  } else if (s.error) {
    process.stderr.write(`outloop: ${s.error} [usage]\n`);
    process.exitCode = 64;
  } else {
    process.exitCode = await runClient(s.argv, socket);
  }
} else {
  // Node 22+ can keep compiled code between runs; an agent calls outloop thousands of times.
  // Kept in the user's cache folder, not Node's default under the shared /tmp: it holds only outloop's
  // own compiled code, and a run must leave nothing behind in TMPDIR.
  const { enableCompileCache } = await import('node:module');
  if (enableCompileCache) {
    const { homedir } = await import('node:os');
    enableCompileCache(`${process.env.XDG_CACHE_HOME || `${homedir()}/.cache`}/outloop/node-compile-cache`);
  }
  const { main } = await import('../dist/cli.mjs');
  const { fileURLToPath } = await import('node:url');
  process.exitCode = await main(argv, { packageRoot: fileURLToPath(new URL('..', import.meta.url)) });
}
