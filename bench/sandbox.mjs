// What the sandbox adds per `outloop exec`: the same trivial recipe with sandbox off, sandboxed without
// network (bwrap + env), and sandboxed behind the egress proxy (bwrap + node forwarder). Run after
// `npm run build`: node bench/sandbox.mjs [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const runs = Number(process.argv[2] ?? 15);
const BIN = resolve('bin/outloop.js');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-bench-sbx-')));
const home = join(root, 'home');
const project = join(root, 'proj');
mkdirSync(join(home, 'recipes'), { recursive: true });
mkdirSync(project);
const recipe = (svc, hosts) => `service: ${svc}\nhosts: ${JSON.stringify(hosts)}\nrecipes:\n  t:\n    description: t\n    risk: read\n    run: ["true"]\n`;
writeFileSync(join(home, 'recipes', 'off.yaml'), recipe('off', []));
writeFileSync(join(home, 'recipes', 'nonet.yaml'), recipe('nonet', []));
writeFileSync(join(home, 'recipes', 'net.yaml'), recipe('net', ['api.example.com']));
writeFileSync(
  join(home, 'config.yaml'),
  `storeKey: file\ntenants:\n  a:\n    projects: [${JSON.stringify(project)}]\n    services:\n      off: { allow: ["*"], sandbox: off }\n      nonet: { allow: ["*"] }\n      net: { allow: ["*"] }\n`,
);
const env = { PATH: process.env.PATH, HOME: root, OUTLOOP_HOME: home, LANG: 'C.UTF-8' };

function time(args) {
  const t = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: project, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.status} ${r.stderr}`);
    if (i >= 2) t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}
function timeRaw(file, args) {
  const t = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(file, args);
    if (i >= 2) t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

// Interleave nothing fancy: medians of each, in one run, so ratios compare like with like.
const node = timeRaw(process.execPath, ['-e', '0']);
const bwrapTrue = timeRaw('bwrap', ['--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true']);
const plainTrue = timeRaw('/usr/bin/true', []);
const off = time(['exec', 'off.t']);
const nonet = time(['exec', 'nonet.t']);
const net = time(['exec', 'net.t']);
rmSync(root, { recursive: true, force: true });
const f = (n) => `${n.toFixed(1)} ms`;
console.log(`median of ${runs} runs each
  node -e 0                          ${f(node)}
  /usr/bin/true                      ${f(plainTrue)}
  bwrap (unshare-all) true           ${f(bwrapTrue)}
  outloop exec, sandbox: off         ${f(off)}
  outloop exec, bwrap, no hosts      ${f(nonet)}   (+${f(nonet - off)}, x${(nonet / off).toFixed(2)})
  outloop exec, bwrap + proxy + fwd  ${f(net)}   (+${f(net - off)}, x${(net / off).toFixed(2)})`);
