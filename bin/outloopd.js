#!/usr/bin/env node
// The system-mode daemon (see src/system/daemon.ts). systemd starts it as its own user; `--foreground`
// runs it without systemd (containers, CI), printing `ready` once the socket answers.
const { daemonMain } = await import('../dist/outloopd.mjs');
const { fileURLToPath } = await import('node:url');
process.exitCode = await daemonMain(process.argv.slice(2), fileURLToPath(new URL('..', import.meta.url)));
