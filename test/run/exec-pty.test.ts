import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, type E2E, makeE2E, plantedSecret } from '../e2e/helpers.js';

/** A recipe with `pty: true`: `outloop exec` runs it on a pseudo-terminal, output still redacted. */
const SECRET = plantedSecret('tok');

describe('exec of a pty: true recipe', () => {
  let e: E2E;
  beforeAll(async () => {
    e = makeE2E(['acme']);
    e.writeRecipe('term', `service: term
secrets: [TOKEN]
recipes:
  tty:
    description: reports whether it has a terminal
    risk: read
    pty: true
    run: [sh, -c, '[ -t 1 ] && echo "tty=yes" || echo "tty=no"; echo "t=$T"; printf "\\033[32mgreen\\033[0m\\n"; cat; exit 6']
    env: { T: "{{secrets.TOKEN}}" }
    stdin: "typed-line"
  pipe:
    description: the same without pty
    risk: read
    run: [sh, -c, '[ -t 1 ] && echo "tty=yes" || echo "tty=no"']
  flood:
    description: writes on a terminal without end
    risk: read
    pty: true
    run: [sh, -c, 'while :; do echo outloop-pty-flood-0123456789; done']
    maxOutput: 64KiB
    timeout: 20s
`);
    e.writeConfig(configYaml(e, { acme: 'term:\n  secrets: { TOKEN: "local:acme/tok" }\n  allow: ["*"]' }));
    await e.setSecret('local:acme/tok', SECRET);
  });
  afterAll(() => e?.cleanup());

  it('gets a terminal, its stdin then end-of-file, redacted output and its exit code', async () => {
    const r = await e.cli(['exec', 'term.tty']);
    expect(r.status).toBe(6);
    expect(r.stdout).toContain('tty=yes\r\n');
    expect(r.stdout).toContain('t=[REDACTED:TOKEN]');
    expect(r.stdout).toContain('\x1b[32mgreen');
    expect(r.stdout).toContain('typed-line');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect((await e.cli(['exec', 'term.pipe'])).stdout).toBe('tty=no\n');
  });

  it('maxOutput stops the child on a terminal too: killed at the limit, not left running until its timeout', async () => {
    const t0 = Date.now();
    const r = await e.cli(['exec', 'term.flood', '--json']);
    // Without the stop the cap only drops output and the child writes on until the 20 s timeout (124).
    expect(Date.now() - t0).toBeLessThan(10_000);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ truncated: true, exitCode: 137 });
    expect(Buffer.byteLength(env.stdout)).toBe(64 * 1024);
    expect(e.audit().filter((a) => a.recipe === 'flood' && a.phase === 'end').at(-1)).toMatchObject({ truncated: true, exitCode: 137 });
  });

  it('the recipe schema takes pty: true and lints it', async () => {
    const r = await e.cli(['recipes', 'lint']);
    expect(r.status).toBe(0);
  });
});
