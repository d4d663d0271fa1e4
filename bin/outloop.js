#!/usr/bin/env node
// The installed command. Kept tiny: it checks the Node version and hands over to the bundled CLI.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`outloop: Node.js 20.19 or newer is required (this is ${process.versions.node})\n`);
  process.exit(64);
}
// Tools probe the version often: answer it from one tiny module, not the CLI (18 files to compile).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { VERSION } = await import('../dist/version.mjs');
  process.stdout.write(`${VERSION}\n`);
} else {
  // Node 22+ can keep compiled code between runs; an agent calls outloop thousands of times.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  const { main } = await import('../dist/cli.mjs');
  const { fileURLToPath } = await import('node:url');
  process.exitCode = await main(argv, { packageRoot: fileURLToPath(new URL('..', import.meta.url)) });
}
