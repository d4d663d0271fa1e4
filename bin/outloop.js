#!/usr/bin/env node
// The installed command. Kept tiny and CommonJS: it checks the Node version and hands over to the bundle
// through dist/load.cjs (V8's code cache, no ESM loader), loading only what the command needs.
'use strict';
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`outloop: Node.js 20.19 or newer is required (this is ${process.versions.node})\n`);
  process.exit(64);
}
const argv = process.argv.slice(2);
// System mode: when OUTLOOP_SOCKET is set or a system install exists, outloop is only a client of
// outloopd and loads nothing else (no config, store or state of the caller's). `system` sets it up.
const fs = process.getBuiltinModule('node:fs');
const socket = argv[0] === 'system' ? '' : process.env.OUTLOOP_SOCKET || (fs.existsSync('/etc/outloop/system.json') || fs.existsSync('/run/outloop/broker.sock') ? '/run/outloop/broker.sock' : '');
// The pipeline's chunks go through the code-cache loader; the system-mode client is one plain file.
const entry = (name) => require('../dist/load.cjs').entry(name);
const root = require('node:path').join(__dirname, '..');
const exit = (code) => {
  process.exitCode = code;
};
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Tools probe the version often: answered from one tiny module, not the CLI.
  process.stdout.write(`${entry('version').VERSION}\n`);
} else if (socket) {
  const { runClient, prepareSession, initAgent } = require('../dist/client.cjs');
  // A session's root loads the peercred addon (it becomes a subreaper) from the package, found from here.
  const session = argv[0] === 'session' ? prepareSession(argv, root) : Promise.resolve({ argv });
  session.then((s) => {
    if (argv[0] === 'init' && argv.some((a) => a === '--agent' || a.startsWith('--agent='))) return initAgent(argv, socket);
    if (s.error) {
      process.stderr.write(`outloop: ${s.error} [usage]\n`);
      return 64;
    }
    return runClient(s.argv, socket);
  }).then(exit);
} else {
  entry('cli').main(argv, { packageRoot: root }).then(exit);
}
