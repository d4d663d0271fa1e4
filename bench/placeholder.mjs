// What a placeholder run costs on the wire: the same requests from a sandboxed recipe child through the
// egress proxy, once as today's allow-list tunnel (CONNECT, TLS end to end) and once as a placeholder run
// (the proxy ends TLS, swaps the header, redacts the reply, and opens its own TLS upstream). Many small
// requests on one keep-alive connection, one large response body and one large upload; the medians and
// ratios come from one run, with a reference beside them: the same requests through a naive relay that
// ends TLS. Run after `npm run build`: node bench/placeholder.mjs [rounds]
// A/B of builds in the same run (rounds interleaved, one OUTLOOP_HOME each): OUTLOOP_BENCH_BUILDS=old=/path/to/built/checkout,new=.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 5);
const SMALL = 300;
const LARGE = 16 * 1024 * 1024;
const BUILDS = (process.env.OUTLOOP_BENCH_BUILDS ?? 'this=.').split(',').map((b) => b.split('='));
const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-bench-ph-')));
const homes = BUILDS.map(([name]) => join(root, `home-${name}`));
const project = join(root, 'proj');
const recipes = join(root, 'recipes');
mkdirSync(recipes, { recursive: true });
mkdirSync(project);

// A test CA and a leaf for 127.0.0.1, made with openssl (the bench must not need the TypeScript sources).
const { execFileSync } = await import('node:child_process');
const ssl = (...a) => execFileSync('openssl', a, { cwd: root, stdio: 'pipe' });
ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench ca');
ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
writeFileSync(join(root, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'ext.cnf');
const { readFileSync } = await import('node:fs');
const TOKEN = 'ghp_' + 'Ab3'.repeat(12);
const big = Buffer.alloc(LARGE, 'x');
const server = createServer({ key: readFileSync(join(root, 'leaf.key')), cert: readFileSync(join(root, 'leaf.pem')) }, (req, res) => {
  const ok = req.headers.authorization === `Bearer ${TOKEN}` || req.headers['x-mode'] === 'plain';
  req.resume();
  req.on('end', () => {
    if (!ok) return res.writeHead(401).end('no\n');
    if (req.url === '/large') return res.end(big);
    res.end('{"ok":true}\n');
  });
});
// Fairness check: how many TLS connections the server accepted per exec (the same in both modes means the
// placeholder proxy reuses its upstream connection the way the child reuses its tunnel).
let conns = 0;
server.on('secureConnection', () => conns++);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

// The child: a CONNECT tunnel by hand (node 20's https ignores HTTPS_PROXY), then keep-alive requests over it.
// agent: false, as proxy agents do: the tunnel is this connection's alone.
writeFileSync(join(recipes, 'client.mjs'), `
import http from 'node:http'; import tls from 'node:tls'; import { readFileSync } from 'node:fs';
const boot = performance.now();
const [mode, port] = process.argv.slice(2);
// REF_PORT: the reference rows below, straight to a bare relay (no CONNECT, no sandbox).
const direct = process.env.REF_PORT;
const ca = mode === 'plain' || direct ? readFileSync(new URL('./ca.pem', import.meta.url)) : undefined;
const sock = direct ? (await import('node:net')).connect(Number(direct), '127.0.0.1') : await new Promise((res, rej) => { const proxy = new URL(process.env.HTTPS_PROXY); http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: '127.0.0.1:' + port, agent: false }).on('connect', (r, s) => res(s)).on('error', rej).end(); });
const t = tls.connect({ socket: sock, ca, host: '127.0.0.1', ALPNProtocols: ['http/1.1'] });
await new Promise((r, j) => t.once('secureConnect', r).once('error', j));
const hs = performance.now() - boot;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); agent.createConnection = () => t;
const go = (method, path, body) => new Promise((res, rej) => { const q = http.request({ agent, method, path, headers: { host: '127.0.0.1:' + port, authorization: 'Bearer ' + process.env.T, 'x-mode': mode, ...(body ? { 'content-length': body.length } : {}) } }, (r) => { let n = 0; r.on('data', (d) => (n += d.length)); r.on('end', () => (r.statusCode === 200 ? res(n) : rej(new Error('status ' + r.statusCode)))); }); q.on('error', rej); q.end(body); });
let t0 = performance.now(); await go('GET', '/small'); const first = performance.now() - t0;
const each = []; t0 = performance.now(); for (let i = 0; i < ${SMALL}; i++) { const t1 = performance.now(); await go('GET', '/small'); each.push(performance.now() - t1); } const small = performance.now() - t0;
each.sort((a, b) => a - b); const p50 = each[each.length >> 1]; const p95 = each[Math.floor(each.length * 0.95)];
t0 = performance.now(); const got = await go('GET', '/large'); const down = performance.now() - t0;
if (got !== ${LARGE}) throw new Error('short body ' + got);
const up = Buffer.alloc(${LARGE}, 'y');
t0 = performance.now(); await go('POST', '/upload', up); const upload = performance.now() - t0;
console.log(JSON.stringify({ small, p50, p95, down, upload, boot, hs, first })); t.destroy();
`);
writeFileSync(join(recipes, 'ca.pem'), readFileSync(join(root, 'ca.pem')));
// The reference: what ending TLS costs a fresh node done the obvious way. A bare relay, started anew for
// each round as outloop's proxy is, either copies bytes (tcp) or ends the child's TLS with the bench's
// leaf and opens its own to the server, with stream.pipe() both ways and nothing else: no HTTP, no swap,
// no redaction. Not shippable. The placeholder proxy does more per byte and should still cost less.
writeFileSync(join(root, 'relay.mjs'), `
import net from 'node:net'; import tls from 'node:tls'; import { readFileSync } from 'node:fs';
const [mode, port] = process.argv.slice(2);
const ctx = tls.createSecureContext({ key: readFileSync('leaf.key'), cert: readFileSync('leaf.pem'), ciphers: 'TLS_AES_128_GCM_SHA256' });
const ca = readFileSync('ca.pem');
const srv = net.createServer((c) => {
  if (mode === 'tcp') { const u = net.connect(Number(port), '127.0.0.1'); c.pipe(u); u.pipe(c); return; }
  const d = new tls.TLSSocket(c, { isServer: true, secureContext: ctx, ALPNProtocols: ['http/1.1'] });
  const u = tls.connect({ port: Number(port), host: '127.0.0.1', ca, ALPNProtocols: ['http/1.1'], ciphers: 'TLS_AES_128_GCM_SHA256' });
  d.pipe(u); u.pipe(d);
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
`);
const recipe = (svc, mode) => `service: ${svc}\nhosts: ["127.0.0.1:${port}"]\nsecrets: [T]\nrecipes:\n  go:\n    description: bench\n    risk: read\n    run: [node, "{{recipe.dir}}/client.mjs", ${mode}, "${port}"]\n    env: { T: "{{secrets.T}}" }\n    timeout: 120s\n    maxOutput: 1MiB\n`;
writeFileSync(join(recipes, 'plain.yaml'), recipe('plain', 'plain'));
writeFileSync(join(recipes, 'ph.yaml'), recipe('ph', 'ph'));
for (const home of homes) {
  mkdirSync(home);
  symlinkSync(recipes, join(home, 'recipes'));
  writeFileSync(join(home, 'config.yaml'), `storeKey: file\ntenants:\n  a:\n    projects: [${JSON.stringify(project)}]\n    services:\n      plain: { allow: ["*"], secrets: { T: "local:a/t" } }\n      ph: { allow: ["*"], secrets: { T: "local:a/t" }, placeholder: true }\n`);
}
const envOf = (b) => ({ PATH: process.env.PATH, HOME: root, OUTLOOP_HOME: homes[b], LANG: 'C.UTF-8', NODE_EXTRA_CA_CERTS: join(root, 'ca.pem') });

function cli(b, args, input) {
  return new Promise((resolveP, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [resolve(BUILDS[b][1], 'bin/outloop.js'), ...args], { cwd: project, env: envOf(b) });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.stdin.end(input ?? '');
    c.on('close', (code) => (code === 0 ? resolveP({ out, ms: performance.now() - t0 }) : reject(new Error(`${args.join(' ')}: ${code} ${err}${out}`))));
  });
}
for (let b = 0; b < BUILDS.length; b++) await cli(b, ['secrets', 'set', 'local:a/t'], TOKEN);
/** One round of the reference: a fresh relay of `mode`, then the same client and requests straight through it. */
async function refRound(mode) {
  const relay = spawn(process.execPath, [join(root, 'relay.mjs'), mode, String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const relayPort = await new Promise((resolveP, reject) => {
    relay.stdout.once('data', (d) => resolveP(Number(String(d).trim())));
    relay.once('exit', (code) => reject(new Error(`relay ${mode} exited ${code}`)));
  });
  const out = await new Promise((resolveP, reject) => {
    const c = spawn(process.execPath, [join(recipes, 'client.mjs'), 'plain', String(port)], { env: { PATH: process.env.PATH, T: TOKEN, REF_PORT: String(relayPort) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.on('close', (code) => (code === 0 ? resolveP(JSON.parse(text)) : reject(new Error(`reference client (${mode}) exited ${code}`))));
  });
  relay.kill();
  return out;
}
const all = BUILDS.map(() => ({ plain: [], ph: [] }));
const refRuns = { plain: [], ph: [] };
for (let i = 0; i < rounds + 1; i++) {
  for (let b = 0; b < BUILDS.length; b++) {
    for (const m of ['plain', 'ph']) {
      conns = 0;
      const r = await cli(b, ['exec', `${m}.go`]);
      if (i > 0) all[b][m].push({ ...JSON.parse(r.out), total: r.ms, conns });
    }
  }
  // The reference's two relays in the same rounds, so the same load falls on them.
  const tcp = await refRound('tcp');
  const bare = await refRound('tls');
  if (i > 0) {
    refRuns.plain.push(tcp);
    refRuns.ph.push(bare);
  }
}
server.close();
rmSync(root, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let res;
const row = (k, label) => {
  const a = med(res.plain.map((x) => x[k]));
  const b = med(res.ph.map((x) => x[k]));
  // Each round ran both modes back to back: the median of the rounds' own ratios moves less than the
  // ratio of the medians when the machine's speed drifts between rounds.
  const paired = med(res.ph.map((x, i) => x[k] / res.plain[i][k]));
  return `  ${label.padEnd(34)} ${a.toFixed(1).padStart(9)} ms ${b.toFixed(1).padStart(9)} ms   ${(b / a).toFixed(2)}x   ${paired.toFixed(2)}x`;
};
for (let b = 0; b < BUILDS.length; b++) {
  res = all[b];
  if (BUILDS.length > 1) console.log(`== ${BUILDS[b][0]} (${BUILDS[b][1]})`);
  console.log(`median of ${rounds} rounds, sandboxed exec child (bwrap when available) through the egress proxy
  ${''.padEnd(34)} ${'allow-list'.padStart(12)} ${'placeholder'.padStart(12)}   ratio   paired (median of each round's ratio)
${row('small', `${SMALL} small requests (keep-alive)`)}
${row('p50', '  one small request, median')}
${row('p95', '  one small request, 95th percentile')}
${row('down', `one ${LARGE / 1048576} MiB response`)}
${row('upload', `one ${LARGE / 1048576} MiB upload`)}
${row('total', 'whole outloop exec')}
${row('boot', 'child: node start to first line')}
${row('hs', '  then CONNECT and TLS')}
${row('first', '  then the first request')}
  server TLS connections per exec: allow-list ${med(res.plain.map((x) => x.conns))}, placeholder ${med(res.ph.map((x) => x.conns))}
target: placeholder <= 1.3x the allow-list proxy per request`);
}
res = refRuns;
console.log(`reference, the same rounds: a naive relay in a fresh node (stream.pipe; no sandbox, HTTP or redaction)
  ${''.padEnd(34)} ${'TCP copy'.padStart(12)} ${'TLS ended'.padStart(12)}   ratio   paired
${row('small', `${SMALL} small requests (keep-alive)`)}
${row('down', `one ${LARGE / 1048576} MiB response`)}
${row('upload', `one ${LARGE / 1048576} MiB upload`)}
  (what ending TLS costs a fresh node done the obvious way, with no work of its own on the bytes)`);
