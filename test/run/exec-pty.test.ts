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

  it('the recipe schema takes pty: true and lints it', async () => {
    const r = await e.cli(['recipes', 'lint']);
    expect(r.status).toBe(0);
  });
});
