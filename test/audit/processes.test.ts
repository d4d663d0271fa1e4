import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord, summarizeAttempts, verifyAuditFile } from '../../src/audit/index.js';
import { entry, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
let bundleDir: string;
let appendWorker: string;
let startWorker: string;

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'outloop-audit-workers-'));
  const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  await build({
    entryPoints: { 'append-worker': fixture('append-worker'), 'start-worker': fixture('start-worker') },
    outdir: bundleDir,
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    bundle: true,
    logLevel: 'warning',
  });
  appendWorker = join(bundleDir, 'append-worker.mjs');
  startWorker = join(bundleDir, 'start-worker.mjs');
});
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

function run(script: string, args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }>; stdout: () => string } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr: err })),
  );
  return { child, exited, stdout: () => out };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const lineCount = (file: string): number => {
  try {
    return readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
};

describe('concurrent processes', () => {
  it('16 processes appending together keep one unbroken chain', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.jsonl');
    const go = join(dir, 'go');
    const WORKERS = 16;
    const N = 25;
    const workers = Array.from({ length: WORKERS }, (_, w) => run(appendWorker, [file, String(N), `w${w}`, go]));
    await until(() => workers.every((w) => w.stdout().includes('ready')), 'workers to start');
    writeFileSync(go, '');
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const r of results) expect(r).toEqual({ code: 0, signal: null, stderr: '' });

    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(WORKERS * N);
    const records = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(verifyAuditFile(file)).toEqual({ ok: true, records: WORKERS * N });
    expect(new Set(records.map((r) => r.id)).size).toBe(WORKERS * N);
    for (let w = 0; w < WORKERS; w++) {
      expect(records.filter((r) => r.worker === `w${w}`).map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
    }
    // Had the workers run one after another, the writer would change only WORKERS - 1 times.
    const switches = records.filter((r, i) => i > 0 && r.worker !== records[i - 1]!.worker).length;
    expect(switches).toBeGreaterThan(WORKERS - 1);
  });

  it('a run SIGKILLed after its start record shows as incomplete', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const worker = run(startWorker, [file]);
    await until(() => worker.stdout().includes('started'), 'the start record');
    const id = /started (\S+)/.exec(worker.stdout())![1];
    worker.child.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');

    const log = new AuditLog(file);
    await log.append(entry({ decision: 'deny', code: 'not_allowed' }));
    const attempts = summarizeAttempts(log.readAll());
    expect(attempts.map((a) => [a.id, a.incomplete])).toEqual([
      [id, true],
      [attempts[1]!.id, false],
    ]);
    expect(verifyAuditFile(file).ok).toBe(true);
  });

  it('a writer SIGKILLed mid-stream leaves a chain the next process extends', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.jsonl');
    const go = join(dir, 'go');
    writeFileSync(go, '');
    const worker = run(appendWorker, [file, '100000', 'victim', go]);
    await until(() => lineCount(file) >= 200, 'the victim to append');
    worker.child.kill('SIGKILL');
    await worker.exited;
    // Whether it died holding the lock (with its pid written, or not yet), the next append must get
    // through and chain on.
    await new AuditLog(file, { lockTimeoutMs: 5_000 }).append(entry());
    const result = verifyAuditFile(file);
    expect(result.ok).toBe(true);
    expect(result.records).toBeGreaterThan(200);
  });
});
