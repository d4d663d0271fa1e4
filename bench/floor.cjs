// The floor under `outloop exec`: what any broker with outloop's guarantees must do, with none of
// outloop's own code. Load node:crypto and hash (the audit chain), append and fdatasync two lines (the
// start and end records), and run `true` through `sh -c 'ulimit -c 0; exec "$@"'` with piped output.
// bench/startup.mjs times it beside `node -e 0` and `outloop exec`, so the gap is outloop's own cost.
// CommonJS, as outloop's own entry is: an ES module would start node's ESM loader (about 2 ms here),
// which outloop does not pay.
const { spawn } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const { closeSync, fdatasyncSync, openSync, writeSync } = require('node:fs');

const log = process.argv[2];
const append = (what) => {
  const fd = openSync(log, 'a', 0o600);
  writeSync(fd, `${createHash('sha256').update(what).digest('hex')} ${randomBytes(8).toString('hex')}\n`);
  fdatasyncSync(fd);
  closeSync(fd);
};
append('start');
const child = spawn('/bin/sh', ['-c', 'ulimit -c 0 2>/dev/null; exec "$@"', 'floor', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
child.on('close', () => append('end'));
