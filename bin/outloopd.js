#!/usr/bin/env node
// The system-mode daemon (see src/system/daemon.ts). systemd starts it as its own user; `--foreground`
// runs it without systemd (containers, CI), printing `ready` once the socket answers.
'use strict';
const { entry } = require('../dist/load.cjs');
entry('outloopd')
  .daemonMain(process.argv.slice(2), require('node:path').join(__dirname, '..'))
  .then((code) => {
    process.exitCode = code;
  });
