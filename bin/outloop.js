#!/usr/bin/env node
// The installed command. Kept tiny: it checks the Node version and hands over to the bundled CLI.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`outloop: Node.js 20.19 or newer is required (this is ${process.versions.node})\n`);
  process.exit(64);
}
// Node 22+ can keep compiled code between runs; an agent calls outloop thousands of times.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../dist/cli.mjs');
const { fileURLToPath } = await import('node:url');
process.exitCode = await main(process.argv.slice(2), { packageRoot: fileURLToPath(new URL('..', import.meta.url)) });
