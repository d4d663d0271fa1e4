// outloop exec start-up, next to bare `node -e 0`, from interleaved runs in one process so machine load
// hits all cases alike, with and without NODE_EXTRA_CA_CERTS. Prints medians and ratios; the target is
// 2.0x or less without the CA bundle. The floor case
// (bench/floor.cjs) does only what the guarantees require (crypto, two synced audit lines, a child
// behind `ulimit -c 0`), so `exec (sandbox off) - floor` is outloop's own cost, and `exec - exec (sandbox
// off)` is what the bubblewrap sandbox adds (bench/sandbox.mjs breaks that down further).
//
//   node bench/startup.mjs [rounds]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 40);
const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'outloop.js');
const root = mkdtempSync(join(tmpdir(), 'outloop-bench-'));
const home = join(root, 'home');
const project = join(root, 'project');
mkdirSync(join(home, 'recipes'), { recursive: true });
mkdirSync(project);
writeFileSync(join(home, 'config.yaml'), `tenants:\n  bench:\n    projects: [${JSON.stringify(project)}]\n    services:\n      bench:\n        secrets: { TOKEN: "local:bench/token" }\n        allow: ["*"]\n      benchoff:\n        allow: ["*"]\n        sandbox: off\nstoreKey: file\n`);
writeFileSync(
  join(home, 'recipes', 'bench.yaml'),
  `service: bench\nhosts: []\nsecrets: [TOKEN]\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n  noop-secret:\n    description: run true with a secret on stdin\n    risk: read\n    run: ["true"]\n    stdin: "{{secrets.TOKEN}}"\n`,
);
// The same noop with the sandbox off: what bubblewrap adds per exec is the difference of the two rows.
// And one that prints a line: every output is scanned for secret shapes, which a no-op never loads.
writeFileSync(join(home, 'recipes', 'benchoff.yaml'), `service: benchoff\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n  hello:\n    description: print one line\n    risk: read\n    run: [echo, "hello world"]\n`);
// This machine sets NODE_EXTRA_CA_CERTS (a 220 KB bundle that every node start parses, ~48 ms here):
// that flatters every ratio, and users' machines seldom set it. Each case runs both ways, interleaved.
const ca = process.env.NODE_EXTRA_CA_CERTS;
// A code cache of the bench's own: another build run meanwhile (a second checkout) would prune the
// user's, and the bench would then time compiles.
const baseEnv = { ...process.env, OUTLOOP_HOME: home, XDG_CACHE_HOME: join(root, 'cache') };
delete baseEnv.NODE_EXTRA_CA_CERTS;
const variants = { 'without NODE_EXTRA_CA_CERTS': baseEnv, ...(ca ? { [`with NODE_EXTRA_CA_CERTS=${ca}`]: { ...baseEnv, NODE_EXTRA_CA_CERTS: ca } } : {}) };
// Wall time on a shared machine swings with load; the CPU time of the node process itself (its own
// threads, not the child it starts) swings much less. Each node started here reports it on fd 3 at exit.
// The hook is a CommonJS file given to --require: a data: URL through --import would start node's ESM
// loader in every case (about 2 ms here), which pads both sides of each ratio and flatters it.
const hookFile = join(root, 'cpu-hook.cjs');
writeFileSync(hookFile, 'process.on("exit",()=>{const u=process.cpuUsage();try{process.getBuiltinModule("fs").writeSync(3,String((u.user+u.system)/1e3))}catch{}})');
const CPU_HOOK = `--require=${hookFile}`;
let lastCpu = NaN;
const run = (args, input, expect = 0, env = baseEnv) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CPU_HOOK, ...args], { cwd: project, env, input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe', 'pipe'] });
  if (r.status !== expect) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  lastCpu = Number(String(r.output[3] ?? ''));
  return Number(process.hrtime.bigint() - t) / 1e6;
};
run([bin, 'secrets', 'set', 'local:bench/token'], 'bench-token-value-123456');

const cases = {
  'node -e 0': [['-e', '0'], 0],
  'floor: crypto + 2 synced lines + sh -> true': [[join(here, 'floor.cjs'), join(root, 'floor.log')], 0],
  'outloop exec bench.noop': [[bin, 'exec', 'bench.noop'], 0],
  'outloop exec, sandbox off (benchoff.noop)': [[bin, 'exec', 'benchoff.noop'], 0],
  'outloop exec bench.noop-secret (local store)': [[bin, 'exec', 'bench.noop-secret'], 0],
  'outloop exec printing one line (sandbox off)': [[bin, 'exec', 'benchoff.hello'], 0],
  'outloop exec (denied: wrong tenant)': [[bin, 'exec', 'bench.noop', '--tenant', 'other'], 77],
  'outloop check benchoff.noop': [[bin, 'check', 'benchoff.noop'], 0],
  'outloop --version': [[bin, '--version'], 0],
};
// Warm the parse, probe and page caches.
for (const env of Object.values(variants)) for (const [args, code] of Object.values(cases)) run(args, undefined, code, env);
const times = Object.fromEntries(Object.keys(variants).map((v) => [v, Object.fromEntries(Object.keys(cases).map((k) => [k, []]))]));
const cpu = Object.fromEntries(Object.keys(variants).map((v) => [v, Object.fromEntries(Object.keys(cases).map((k) => [k, []]))]));
for (let i = 0; i < rounds; i++) {
  for (const [k, [args, code]] of Object.entries(cases)) {
    for (const [v, env] of Object.entries(variants)) {
      times[v][k].push(run(args, undefined, code, env));
      cpu[v][k].push(lastCpu);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
console.log(`start-up, median of ${rounds} interleaved runs (node ${process.version})`);
for (const [v, t] of Object.entries(times)) {
  const base = median(t['node -e 0']);
  const cbase = median(cpu[v]['node -e 0']);
  console.log(`${v}:                                  wall         node's own CPU`);
  for (const [k, xs] of Object.entries(t)) {
    const m = median(xs);
    const c = median(cpu[v][k]);
    console.log(`  ${k.padEnd(46)} ${m.toFixed(1).padStart(7)} ms  ${(m / base).toFixed(2)}x  ${c.toFixed(1).padStart(6)} ms  ${(c / cbase).toFixed(2)}x`);
  }
  const floor = median(t['floor: crypto + 2 synced lines + sh -> true']);
  const off = median(t['outloop exec, sandbox off (benchoff.noop)']);
  console.log(`  outloop's own cost over the floor (sandbox off): ${(off - floor).toFixed(1)} ms; the sandbox adds ${(median(t['outloop exec bench.noop']) - off).toFixed(1)} ms`);
}
console.log('target: outloop exec bench.noop <= 2.00x node -e 0 (wall) without NODE_EXTRA_CA_CERTS; the CPU column is steadier under load');
rmSync(root, { recursive: true, force: true });
