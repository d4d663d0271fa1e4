// Config size: a warm `outloop exec` and the first one after a config edit, with 1 tenant and with
// 1,000, interleaved in one run. Prints medians, ratios to the warm 1-tenant exec, and peak RSS (when
// /usr/bin/time is there). Goal (issue 18 item 5): both scale with the tenant asked for, not with all.
//
//   node bench/tenants.mjs [rounds]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 10);
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'outloop.js');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-bench-tenants-')));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function setup(name, n) {
  const home = join(root, name, 'home');
  mkdirSync(join(home, 'recipes'), { recursive: true });
  const dirs = [];
  for (let i = 0; i < n; i++) {
    dirs.push(join(root, name, 'clients', `c${i}`));
    mkdirSync(dirs[i], { recursive: true });
  }
  const file = join(home, 'config.yaml');
  // An edit a person makes: the budget of the last tenant changes.
  const write = (edits) =>
    writeFileSync(file, `storeKey: file\ntenants:\n${dirs.map((p, i) => `  t${i}:\n    projects: [${JSON.stringify(p)}]\n${i === n - 1 ? `    rate: ${1000 + edits}/day\n` : ''}    services:\n      bench:\n        secrets: { TOKEN: "local:t${i}/token" }\n        allow: ["*"]\n        sandbox: off\n`).join('')}`);
  write(0);
  writeFileSync(join(home, 'recipes', 'bench.yaml'), 'service: bench\nhosts: []\nrecipes:\n  noop:\n    description: run true\n    risk: read\n    run: ["true"]\n');
  const env = { ...process.env, OUTLOOP_HOME: home, XDG_CACHE_HOME: join(root, 'cache') };
  delete env.NODE_EXTRA_CA_CERTS;
  let edits = 0;
  const edit = () => write(++edits);
  return { cwd: join(root, name, 'clients', `c${n - 1}`), env, edit };
}

function run(s) {
  const args = TIME ? [TIME, '-f', '%M', process.execPath, bin, 'exec', 'bench.noop'] : [process.execPath, bin, 'exec', 'bench.noop'];
  const t = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { cwd: s.cwd, env: s.env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`exec exited ${r.status}: ${r.stderr}`);
  return { ms, kb: TIME ? Number(r.stderr.trim().split('\n').at(-1)) : NaN };
}

const sets = { '1 tenant': setup('one', 1), '1,000 tenants': setup('many', 1000) };
for (const s of Object.values(sets)) run(s);
const rows = {};
for (const k of Object.keys(sets)) rows[`${k}, warm`] = [], rows[`${k}, first after an edit`] = [];
for (let i = 0; i < rounds; i++) {
  for (const [k, s] of Object.entries(sets)) {
    rows[`${k}, warm`].push(run(s));
    s.edit();
    rows[`${k}, first after an edit`].push(run(s));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rows['1 tenant, warm'].map((r) => r.ms));
console.log(`outloop exec by config size, median of ${rounds} interleaved runs (node ${process.version}, without NODE_EXTRA_CA_CERTS)`);
for (const [k, rs] of Object.entries(rows)) {
  const ms = median(rs.map((r) => r.ms));
  const kb = median(rs.map((r) => r.kb));
  console.log(`  ${k.padEnd(36)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / base).toFixed(2)}x${Number.isNaN(kb) ? '' : `  ${(kb / 1024).toFixed(0)} MiB`}`);
}
console.log('goal: 1,000 tenants, warm and after an edit, close to 1 tenant warm (it scales with the tenant asked for)');
rmSync(root, { recursive: true, force: true });
