// Audit reads and appends against log size, measured in one run so machine load hits every case alike.
// Builds keyed logs of 1k and 100k records (the format outloop writes: HMAC-SHA256 links under the key
// derived from audit.key, a head beside the log), then times the built CLI:
//   - `audit -n 20` and `audit --follow`'s start: read from the end, so 100k should cost what 1k does;
//   - `audit verify`: per-record cost from the 100k - 1k difference, next to the old verify (JSON.parse,
//     canonical JSON, SHA-256 per record) run here over the same records;
//   - one append (`outloop check`, denied): O(1), so 100k should cost what 1k does.
//
//   npm run build && node bench/audit.mjs [rounds]
//   OLD_BIN=/path/to/older/bin/outloop.js node bench/audit.mjs   (also times that build's verify on the unkeyed log)
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 7);
const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'outloop.js');
const root = mkdtempSync(join(tmpdir(), 'outloop-bench-audit-'));

function canonical(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/**
 * A home with a config, an audit.key made by outloop itself, and a log of n keyed records; or, unkeyed,
 * a log as older versions wrote it (SHA-256 over canonical JSON, no head).
 */
function makeHome(n, keyed = true) {
  const home = join(root, `home-${n}${keyed ? '' : '-unkeyed'}`);
  const project = join(root, `project-${n}${keyed ? '' : '-unkeyed'}`);
  mkdirSync(home, { recursive: true });
  mkdirSync(project);
  writeFileSync(join(home, 'config.yaml'), `tenants:\n  bench:\n    projects: [${JSON.stringify(project)}]\n    services: {}\n`);
  const env = { ...process.env, OUTLOOP_HOME: home, XDG_CACHE_HOME: join(root, 'cache') };
  spawnSync(process.execPath, [bin, 'check', 'nosuch.thing'], { cwd: project, env, stdio: 'ignore' });
  rmSync(join(home, 'audit.jsonl'));
  rmSync(join(home, 'audit.jsonl.head'));
  const installKey = Buffer.from(readFileSync(join(home, 'audit.key'), 'utf8').trim(), 'base64');
  const key = createHmac('sha256', installKey).update('outloop audit chain v1').digest();
  let prev = '0'.repeat(64);
  const lines = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const phase = i % 2 === 0 ? 'start' : 'end';
    const id = `ol_${(t0 + (i >> 1)).toString(36).padStart(9, '0')}bench${String(i >> 1).padStart(5, '0')}`;
    const body = JSON.stringify({
      ts: new Date(t0 + i).toISOString(), id, phase, project: project, tenant: 'bench', service: 'github', recipe: 'list-issues',
      mode: 'exec', decision: 'allow', exitCode: phase === 'end' ? 0 : null, durationMs: 12, redactions: 1,
      params: { repo: 'acme/web', state: 'open' }, recipeSha256: 'a'.repeat(64),
      secrets: [{ name: 'GITHUB_TOKEN', ref: 'local:bench/gh', fingerprint: 'hmac-sha256:0123456789abcdef0123456789abcdef' }],
      sandboxMode: 'bwrap', egressEnforced: true, secretExposed: false, ...(keyed ? { chain: 'hmac-sha256' } : {}), prev,
    });
    const hash = keyed ? createHmac('sha256', key).update(body).digest('hex') : createHash('sha256').update(canonical(JSON.parse(body))).digest('hex');
    lines.push(`${body.slice(0, -1)},"hash":"${hash}"}\n`);
    prev = hash;
  }
  const text = lines.join('');
  writeFileSync(join(home, 'audit.jsonl'), text);
  if (!keyed) return { home, project, env, text };
  const keyId = createHmac('sha256', key).update('outloop audit key id v1').digest('hex').slice(0, 16);
  const head = { v: 1, records: n, bytes: Buffer.byteLength(text), hash: prev, chain: 'hmac-sha256', ts: new Date().toISOString(), keyId };
  head.mac = createHmac('sha256', key).update(`outloop audit head v1\0${canonical(head)}`).digest('hex');
  writeFileSync(join(home, 'audit.jsonl.head'), `${JSON.stringify(head)}\n`);
  return { home, project, env, text };
}

function timed(home, args, expect = 0, cli = bin) {
  const h = homes[home];
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: h.project, env: h.env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== expect) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** `audit --follow -n 20` until its first screen is out: the start of a follow. */
function followStart(home) {
  const h = homes[home];
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, 'audit', '--follow', '-n', '20'], { cwd: h.project, env: h.env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.split('\n').length > 20) {
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        child.kill('SIGKILL');
        resolve(ms);
      }
    });
    child.once('error', reject);
  });
}

/** The verify outloop had before the keyed chain: parse, canonical JSON, SHA-256, per record. */
function oldVerifyMs(text) {
  const t = process.hrtime.bigint();
  let prev = '0'.repeat(64);
  for (const line of text.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    const { hash, ...rest } = r;
    // The work the old verify did per record (its result is not compared: these links are keyed).
    if (createHash('sha256').update(canonical(rest)).digest('hex').length !== 64) throw new Error('digest');
    if (r.prev !== prev) throw new Error('chain');
    prev = hash;
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const homes = { '1k': makeHome(1_000), '100k': makeHome(100_000) };
const unkeyed = { '1k': makeHome(1_000, false), '100k': makeHome(100_000, false) };
Object.assign(homes, { 'u1k': unkeyed['1k'], 'u100k': unkeyed['100k'] });
const cases = {
  'audit -n 20': (h) => timed(h, ['audit', '-n', '20']),
  'audit --follow -n 20 (first screen)': (h) => followStart(h),
  'audit verify': (h) => timed(h, ['audit', 'verify']),
  'check (one append)': (h) => timed(h, ['check', 'nosuch.thing'], 77),
};
const sizes = ['1k', '100k'];
const results = {};
for (let i = 0; i < rounds; i++) {
  for (const [name, fn] of Object.entries(cases)) {
    for (const h of sizes) ((results[name] ??= {})[h] ??= []).push(await fn(h));
  }
  for (const h of ['u1k', 'u100k']) ((results['audit verify, an older unkeyed log'] ??= {})[h] ??= []).push(timed(h, ['audit', 'verify']));
  if (process.env.OLD_BIN) {
    for (const h of ['u1k', 'u100k']) ((results['the same, with OLD_BIN'] ??= {})[h] ??= []).push(timed(h, ['audit', 'verify'], 0, process.env.OLD_BIN));
  }
}
const oldMs = [];
for (let i = 0; i < 3; i++) oldMs.push(oldVerifyMs(homes['100k'].text));

console.log(`audit log size, medians of ${rounds} interleaved runs (ms)`);
console.log(`${'case'.padEnd(40)}${'1k'.padStart(10)}${'100k'.padStart(10)}${'100k/1k'.padStart(10)}`);
for (const [name, per] of Object.entries(results)) {
  const a = median(per['1k'] ?? per.u1k);
  const b = median(per['100k'] ?? per.u100k);
  console.log(`${name.padEnd(40)}${a.toFixed(1).padStart(10)}${b.toFixed(1).padStart(10)}${(b / a).toFixed(2).padStart(9)}x`);
}
const newPerRecord = ((median(results['audit verify']['100k']) - median(results['audit verify']['1k'])) / 99_000) * 1000;
const oldPerRecord = (median(oldMs) / 100_000) * 1000;
const unkeyedPerRecord = ((median(results['audit verify, an older unkeyed log'].u100k) - median(results['audit verify, an older unkeyed log'].u1k)) / 99_000) * 1000;
console.log(`verify per record: ${newPerRecord.toFixed(2)} µs keyed and ${unkeyedPerRecord.toFixed(2)} µs on an older unkeyed log (outloop), vs ${oldPerRecord.toFixed(2)} µs for the old verify (canonical JSON + SHA-256, run here): ${(oldPerRecord / newPerRecord).toFixed(1)}x and ${(oldPerRecord / unkeyedPerRecord).toFixed(1)}x faster`);
if (process.env.OLD_BIN) {
  const per = (name) => ((median(results[name].u100k) - median(results[name].u1k)) / 99_000) * 1000;
  const old = per('the same, with OLD_BIN');
  console.log(`unkeyed log, both CLIs: ${per('audit verify, an older unkeyed log').toFixed(2)} µs per record vs ${old.toFixed(2)} µs with OLD_BIN: ${(old / per('audit verify, an older unkeyed log')).toFixed(1)}x; keyed vs OLD_BIN on unkeyed: ${(old / newPerRecord).toFixed(1)}x`);
}
rmSync(root, { recursive: true, force: true });
