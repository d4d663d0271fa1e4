import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { type Api, configYaml, curlRecipe, type E2E, leakForms, makeE2E, plantedSecret, startApi } from '../e2e/helpers.js';

/**
 * Recordings end to end: `exec --record` and `record: true` write an asciicast v2 file from the same
 * redacted (and shaped) bytes the agent saw, linked from the audit end record by id and sha256; `audit
 * show` and `replay` read it back and refuse a changed or missing one.
 */
const TALK = `
const t = process.env.TOKEN;
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
process.stdout.write('one ' + t + '\\n');
// Pauses well over the 0.3 s the test looks for: on a loaded machine the first write can reach the
// recording late (start-up work still running), which ate most of a 0.4 s pause.
await wait(900);
process.stderr.write('warn ' + t + ' (stderr)\\n');
await wait(900);
process.stdout.write('two \\u00e9\\u20ac done\\n');
`;

function castLines(file: string) {
  const lines = readFileSync(file, 'utf8').split('\n');
  expect(lines.pop()).toBe('');
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
  return { header, events };
}

describe('recordings', () => {
  let e: E2E;
  let api: Api;
  const token = plantedSecret('rec');
  const recDir = () => join(e.home, 'recordings');
  const endOf = (id: string) => e.audit().find((a) => a.id === id && a.phase === 'end')!;
  const exec = async (args: string[], cwd = e.projects.acme) => {
    const r = await e.cli(['exec', ...args, '--json'], { cwd });
    return { r, env: JSON.parse(r.stdout) as { auditId: string; stdout: string; stderr: string; exitCode: number } };
  };

  beforeAll(async () => {
    e = makeE2E(['acme', 'globex']);
    api = await startApi([token]);
    e.writeRecipe('api', curlRecipe('api', api.port));
    writeFileSync(join(e.home, 'recipes', 'talk.mjs'), TALK);
    e.writeRecipe('talk', `service: talk
description: a script that talks on both streams
secrets: [TOKEN]
recipes:
  run:
    description: talk
    risk: read
    run: [node, "{{recipe.dir}}/talk.mjs"]
    env: { TOKEN: "{{secrets.TOKEN}}" }
  shaped:
    description: talk, shaped
    risk: read
    run: [node, -e, "process.stdout.write(JSON.stringify({keep: 'kept ' + process.env.TOKEN, drop: 'dropped-marker'}))"]
    env: { TOKEN: "{{secrets.TOKEN}}" }
    output: { pick: [keep] }
  notjson:
    description: not JSON under a JSON contract
    risk: read
    run: [node, -e, "process.stdout.write('<html>marker-nj ' + process.env.TOKEN)"]
    env: { TOKEN: "{{secrets.TOKEN}}" }
    output: { format: json }
`);
    e.writeConfig(configYaml(e, {
      acme: 'api:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\ntalk:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]',
      globex: 'api:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]\n  record: true\n  shared: true',
    }, 'storeKey: file\nrecordRetention: 10d\n'));
    await e.setSecret('local:acme/token', token);
  });
  afterAll(async () => {
    await api?.close();
    e?.cleanup();
  });

  it('--record writes a valid asciicast v2 file of the redacted output, with its timing, linked by sha256', async () => {
    const { r, env } = await exec(['talk.run', '--record']);
    expect(r.status).toBe(0);
    expect(env.stdout).toBe('one [REDACTED:TOKEN]\ntwo é€ done\n');
    const file = join(recDir(), `${env.auditId}.cast`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { header, events } = castLines(file);
    expect(header).toMatchObject({ version: 2, width: expect.any(Number), height: expect.any(Number), timestamp: expect.any(Number), env: expect.any(Object) });
    expect(header.title).toBe(`outloop exec talk.run (${env.auditId})`);
    expect(Math.abs((header.timestamp as number) - Date.now() / 1000)).toBeLessThan(60);
    for (const [t, type, data] of events) {
      expect(typeof t).toBe('number');
      expect(type).toBe('o');
      expect(typeof data).toBe('string');
    }
    // Merged in the order shown, newlines as a terminal gets them, with the pauses of the run.
    expect(events.map((ev) => ev[2]).join('')).toBe('one [REDACTED:TOKEN]\r\nwarn [REDACTED:TOKEN] (stderr)\r\ntwo é€ done\r\n');
    const at = (s: string) => events.find((ev) => ev[2].includes(s))![0];
    expect(at('warn') - at('one')).toBeGreaterThan(0.3);
    expect(at('two') - at('warn')).toBeGreaterThan(0.3);
    const times = events.map((ev) => ev[0]);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const end = endOf(env.auditId);
    expect(end.recording).toEqual({ id: env.auditId, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') });
    const bytes = readFileSync(file);
    for (const form of leakForms(token)) expect(bytes.includes(form)).toBe(false);
  });

  it('a grant with record: true records without the flag; an unrecorded run leaves nothing', async () => {
    const before = existsSync(recDir()) ? readdirSync(recDir()).length : 0;
    const plain = await exec(['api.list']);
    expect(plain.r.status).toBe(0);
    expect(endOf(plain.env.auditId).recording).toBeUndefined();
    expect(existsSync(recDir()) ? readdirSync(recDir()).length : 0).toBe(before);

    const { r, env } = await exec(['api.list', '-p', 'limit=3'], e.projects.globex);
    expect(r.status).toBe(0);
    expect(env.stdout).toContain('Bearer [REDACTED:TOKEN]');
    const file = join(recDir(), `${env.auditId}.cast`);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('[REDACTED:TOKEN]');
    for (const form of leakForms(token)) expect(readFileSync(file).includes(form)).toBe(false);
    expect((endOf(env.auditId).recording as { sha256: string }).sha256).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('records the shaped output, not what the contract dropped', async () => {
    const { r, env } = await exec(['talk.shaped', '--record']);
    expect(r.status).toBe(0);
    expect(JSON.parse(env.stdout)).toEqual({ keep: 'kept [REDACTED:TOKEN]' });
    const text = readFileSync(join(recDir(), `${env.auditId}.cast`), 'utf8');
    expect(text).toContain('kept [REDACTED:TOKEN]');
    expect(text).not.toContain('dropped-marker');
    expect(text).not.toContain(token);
  });

  it('under a contract, output that is not JSON is not recorded; the error the agent saw is', async () => {
    const r = await e.cli(['exec', 'talk.notjson', '--record'], { cwd: e.projects.acme });
    expect(r.status).toBe(65);
    const id = e.audit().at(-1)!.id as string;
    const end = endOf(id);
    expect(end).toMatchObject({ code: 'output_not_json', recording: { id } });
    const text = readFileSync(join(recDir(), `${id}.cast`), 'utf8');
    expect(text).not.toContain('marker-nj');
    expect(text).toContain('[output_not_json]');
    const replay = await e.cli(['replay', id, '--speed', '100']);
    expect(replay.stdout).toBe(r.stderr);
  });

  it('audit show prints the records and the recording status; replay --speed 100 reproduces the output', async () => {
    const { env } = await exec(['talk.run', '--record']);
    const show = await e.cli(['audit', 'show', env.auditId]);
    expect(show.status).toBe(0);
    expect(show.stdout).toContain(`attempt ${env.auditId}`);
    expect(show.stdout).toMatch(/start .*\n[\s\S]*end /);
    expect(show.stdout).toContain('intact');
    const showJson = await e.cli(['audit', 'show', env.auditId, '--json']);
    const sj = JSON.parse(showJson.stdout) as { records: { phase: string }[]; recording: { status: string } };
    expect(sj.records.map((x) => x.phase)).toEqual(['start', 'end']);
    expect(sj.recording.status).toBe('ok');

    const t0 = Date.now();
    const replay = await e.cli(['replay', env.auditId, '--speed', '100']);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toBe('one [REDACTED:TOKEN]\nwarn [REDACTED:TOKEN] (stderr)\ntwo é€ done\n');
    expect(Date.now() - t0).toBeLessThan(5000);
    // At the original pace the two pauses (0.4 s each) are kept.
    const slow = await e.cli(['replay', env.auditId]);
    expect(slow.stdout).toBe(replay.stdout);
    expect(slow.ms).toBeGreaterThan(750);
    const capped = await e.cli(['replay', env.auditId, '--max-wait', '0']);
    expect(capped.stdout).toBe(replay.stdout);
  });

  it('Ctrl-C stops a replay cleanly (exit 130)', async () => {
    const { env } = await exec(['talk.run', '--record']);
    const child = spawn(process.execPath, [BIN, 'replay', env.auditId, '--speed', '0.05'], { cwd: e.projects.acme, env: e.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (out.includes('one')) {
          clearInterval(poll);
          res();
        }
      }, 10);
    });
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(out).not.toContain('two');
  });

  it('refuses a changed recording (65), a deleted one (66), an unknown id (64)', async () => {
    const { env } = await exec(['talk.run', '--record']);
    const file = join(recDir(), `${env.auditId}.cast`);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('two', 'TWO'));
    const show = await e.cli(['audit', 'show', env.auditId]);
    expect(show.status).toBe(65);
    expect(show.stdout).toContain('TAMPERED');
    const replay = await e.cli(['replay', env.auditId]);
    expect(replay.status).toBe(65);
    expect(replay.stdout).toBe('');
    expect(replay.stderr).toContain('[recording_tampered]');

    writeFileSync(file, '');
    const { rmSync } = await import('node:fs');
    rmSync(file);
    const gone = await e.cli(['replay', env.auditId]);
    expect(gone.status).toBe(66);
    expect(gone.stderr).toContain('[recording_missing]');

    const unknown = await e.cli(['replay', 'ol_nope']);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('[unknown_audit_id]');
    const plain = await exec(['api.list']);
    const none = await e.cli(['replay', plain.env.auditId]);
    expect(none.status).toBe(66);
    expect(none.stderr).toContain('[no_recording]');
  });

  it('retention (recordRetention: 10d) deletes older recordings on a recorded run', async () => {
    mkdirSync(recDir(), { recursive: true });
    const old = join(recDir(), 'ol_old.cast');
    const partial = join(recDir(), '.ol_killed.cast.partial');
    const recent = join(recDir(), 'ol_recent.cast');
    const other = join(recDir(), 'notes.txt');
    for (const f of [old, partial, recent, other]) writeFileSync(f, '{"version": 2, "width": 80, "height": 24}\n');
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    utimesSync(old, days(11), days(11));
    utimesSync(partial, days(20), days(20));
    utimesSync(recent, days(9), days(9));
    utimesSync(other, days(90), days(90));
    // An unrecorded run does not sweep (retention is enforced by recorded runs).
    await exec(['api.list']);
    expect(existsSync(old)).toBe(true);
    const { r } = await exec(['api.list', '--record']);
    expect(r.status).toBe(0);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });

  it('no secret in any form in the recordings or the audit log', () => {
    const files = [...readdirSync(recDir()).map((n) => join(recDir(), n)), join(e.home, 'audit.jsonl')];
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) for (const form of leakForms(token)) expect(readFileSync(f).includes(form), f).toBe(false);
  });
});
