import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, configYaml, type E2E, filesContaining, leakForms, makeE2E, plantedSecret } from './helpers.js';

/**
 * A planted secret, written by the child in every way a careless tool would, must not come out anywhere:
 * stdout, stderr, the --json envelope, the audit log, any file outloop keeps (the encrypted store holds it
 * neither in clear nor base64/hex), and no run folder (with the file the child wrote into it) may remain.
 */
const SECRET = plantedSecret('leak');

// The secret split in two writes separated by a sleep: everything but the last 8 bytes, then the last 8.
const SPLIT = 'head="${T%????????}"; printf %s "$head"; sleep 0.3; printf %s "${T#"$head"}"';
// One byte per write, each its own pipe chunk.
const BYTES = 'printf "%s\\n" "$T" | fold -w1 | while IFS= read -r c; do printf %s "$c"; sleep 0.01; done';

const RECIPES = `service: leaky
secrets: [TOKEN]
recipes:
  stdout:
    description: print it with a newline
    run: [sh, -c, 'printf "before %s after\\n" "$T"']
    env: { T: "{{secrets.TOKEN}}" }
  stderr:
    description: print it on stderr
    run: [sh, -c, 'printf "err %s\\n" "$T" >&2']
    env: { T: "{{secrets.TOKEN}}" }
  split:
    description: in two pieces with a pause between them, on both streams
    run: [sh, -c, '${SPLIT}; echo; { ${SPLIT}; } >&2']
    env: { T: "{{secrets.TOKEN}}" }
  bytes:
    description: one byte at a time
    run: [sh, -c, '${BYTES}']
    env: { T: "{{secrets.TOKEN}}" }
  tail:
    description: the very last bytes, no newline, on both streams
    run: [sh, -c, 'printf "x%s" "$T" >&2; printf "y%s" "$T"']
    env: { T: "{{secrets.TOKEN}}" }
  file:
    description: from a file it is given and a file it creates in its working dir
    run: [sh, -c, 'cat given.txt; printf %s "$T" > made.txt; cat made.txt; echo; pwd']
    env: { T: "{{secrets.TOKEN}}" }
    files:
      given.txt: "given {{secrets.TOKEN}}\\n"
  stdin:
    description: read from stdin and echoed
    run: [cat]
    stdin: "stdin {{secrets.TOKEN}}\\n"
  fail:
    description: then fail
    run: [sh, -c, 'printf %s "$T"; exit 9']
    env: { T: "{{secrets.TOKEN}}" }
`;

describe('a planted secret never leaks', () => {
  let e: E2E;
  const results: CliResult[] = [];
  const run = async (args: string[]): Promise<CliResult> => {
    const r = await e.cli(args, { cwd: e.projects.acme });
    results.push(r);
    return r;
  };

  beforeAll(async () => {
    e = makeE2E(['acme']);
    e.writeRecipe('leaky', RECIPES);
    e.writeConfig(configYaml(e, { acme: 'leaky:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]' }));
    await e.setSecret('local:acme/token', SECRET);
  });
  afterAll(() => e?.cleanup());

  const cases: [string, string, string][] = [
    // recipe, expected stdout, expected stderr
    ['stdout', 'before [REDACTED:TOKEN] after\n', ''],
    ['stderr', '', 'err [REDACTED:TOKEN]\n'],
    ['split', '[REDACTED:TOKEN]\n', '[REDACTED:TOKEN]'],
    ['bytes', '[REDACTED:TOKEN]', ''],
    ['tail', 'y[REDACTED:TOKEN]', 'x[REDACTED:TOKEN]'],
    ['stdin', 'stdin [REDACTED:TOKEN]\n', ''],
  ];
  for (const [recipe, out, err] of cases) {
    it(`${recipe}: streamed output is redacted exactly`, async () => {
      const r = await run(['exec', `leaky.${recipe}`]);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: out, stderr: err });
    });
    it(`${recipe}: --json envelope is redacted exactly`, async () => {
      const r = await run(['exec', `leaky.${recipe}`, '--json']);
      expect(r.status).toBe(0);
      const env = JSON.parse(r.stdout) as Record<string, unknown>;
      expect({ stdout: env.stdout, stderr: env.stderr }).toEqual({ stdout: out, stderr: err });
      expect(env.redactions).toBe((out.match(/REDACTED/g) ?? []).length + (err.match(/REDACTED/g) ?? []).length);
    });
  }

  it('the split scripts really split the value and join back to it', async () => {
    const joined = execFileSync('sh', ['-c', SPLIT], { env: { T: SECRET, PATH: process.env.PATH } }).toString();
    expect(joined).toBe(SECRET);
    const bytes = execFileSync('sh', ['-c', BYTES], { env: { T: SECRET, PATH: process.env.PATH } }).toString();
    expect(bytes).toBe(SECRET);
  });

  it('a file the child writes in its working dir is redacted on the way out and gone afterwards', async () => {
    const r = await run(['exec', 'leaky.file']);
    expect(r.status).toBe(0);
    const [given, made, dir] = r.stdout.split('\n');
    expect(given).toBe('given [REDACTED:TOKEN]');
    expect(made).toBe('[REDACTED:TOKEN]');
    expect(dir).toMatch(/outloop-run-/);
    expect(dir!.startsWith(e.tmp)).toBe(true);
    expect(existsSync(dir!)).toBe(false);
  });

  it('a failing child: exit code passes through, output still redacted', async () => {
    const r = await run(['exec', 'leaky.fail', '--json']);
    expect(r.status).toBe(9);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 9, stdout: '[REDACTED:TOKEN]' });
  });

  it('afterwards: nothing printed, logged or kept on disk holds the value (any encoding)', async () => {
    // Read outputs also through the inspection commands.
    results.push(await run(['audit']), await run(['audit', '--json']), await run(['secrets', 'list']), await run(['secrets', 'list', '--json']));
    expect(results.length).toBeGreaterThan(15);
    for (const r of results) {
      for (const form of leakForms(SECRET)) {
        expect(r.stdout).not.toContain(form.toString());
        expect(r.stderr).not.toContain(form.toString());
      }
    }
    const audit = readFileSync(join(e.home, 'audit.jsonl'), 'utf8');
    expect(audit.split('\n').filter(Boolean).length).toBeGreaterThan(20);
    expect(audit).not.toContain(SECRET);
    // Every file under OUTLOOP_HOME, the store included, and everything else in the sandbox (projects, tmp).
    expect(existsSync(join(e.home, 'store.json'))).toBe(true);
    expect(filesContaining(e.root, SECRET)).toEqual([]);
    // No run folder survives.
    expect(e.runDirs()).toEqual([]);
  });

  it('the leak scan itself finds a planted copy (so the check above can fail)', () => {
    const canary = join(e.home, 'canary.txt');
    writeFileSync(canary, Buffer.from(SECRET).toString('base64'));
    try {
      expect(filesContaining(e.root, SECRET)).toEqual([canary]);
    } finally {
      writeFileSync(canary, '');
    }
  });
});

describe('the secret never goes in argv', () => {
  let e: E2E;
  beforeAll(() => {
    e = makeE2E(['acme']);
    e.writeConfig(configYaml(e, { acme: 'argv:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]' }));
  });
  afterAll(() => e?.cleanup());

  const BAD = `service: argv
secrets: [TOKEN]
recipes:
  ok:
    description: fine
    run: [sh, -c, 'echo ok']
  bad:
    description: puts the secret on the command line
    run: [curl, -sS, -H, "Authorization: Bearer {{secrets.TOKEN}}", "https://example.com/"]
`;

  it('recipes lint rejects {{secrets.X}} in run with file:line:col (78)', async () => {
    e.writeRecipe('argv', BAD);
    const file = join(e.home, 'recipes', 'argv.yaml');
    const r = await e.cli(['recipes', 'lint', file]);
    expect(r.status).toBe(78);
    expect(r.stdout).toContain(`${file}:9:26: error: {{secrets.TOKEN}} may not appear in run`);
  });

  it('exec of any recipe in that file refuses to run (78) and names file:line', async () => {
    e.writeRecipe('argv', BAD);
    const file = join(e.home, 'recipes', 'argv.yaml');
    for (const target of ['argv.bad', 'argv.ok']) {
      const r = await e.cli(['exec', target]);
      expect(r.status).toBe(78);
      expect(r.stderr).toContain(`${file}:9:`);
      expect(r.stdout).toBe('');
    }
  });
});
