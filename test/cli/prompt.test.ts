import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, makeE2E, type E2E } from '../e2e/helpers.js';

// `outloop secrets set REF` on a terminal asks with a hidden prompt. `script` (util-linux) gives the CLI a
// real pseudo-terminal; the keystrokes arrive after a pause, as a person's would.
const VALUE = 'typed-secret-value-4242';

let e: E2E;
beforeAll(() => {
  e = makeE2E(['acme']);
  e.writeRecipe('chk', `service: chk\nsecrets: [T]\nrecipes:\n  same:\n    description: is the stored value the typed one?\n    risk: read\n    run: [sh, -c, 'test "$T" = "${VALUE}"']\n    env: { T: "{{secrets.T}}" }\n`);
  e.writeConfig(configYaml(e, { acme: 'chk:\n  secrets: { T: "local:acme/typed" }\n  allow: ["*"]' }));
});
afterAll(() => e?.cleanup());

function typeInto(args: string, keys: string) {
  const cmd = `(sleep 1.5; printf '${keys}') | script -qec ${JSON.stringify(`node ${BIN} ${args}`)} /dev/null`;
  return spawnSync('sh', ['-c', cmd], { cwd: e.projects.acme, env: e.env, encoding: 'utf8', timeout: 30_000 });
}

describe('secrets set on a terminal', () => {
  it('reads the value from a hidden prompt: never echoed, stored exactly', async () => {
    const r = typeInto('secrets set local:acme/typed', `${VALUE}\\r`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(input hidden)');
    expect(r.stdout).toContain('Stored a value for local:acme/typed');
    expect(r.stdout).not.toContain(VALUE);
    expect((await e.cli(['exec', 'chk.same'])).status).toBe(0);
  });

  it('Ctrl-C at the prompt stores nothing and exits 64', async () => {
    const r = typeInto('secrets set local:acme/other', 'abc\\003');
    expect(r.status).toBe(64);
    expect(r.stdout).toContain('cancelled');
    expect(r.stdout).not.toContain('abc');
    const list = await e.cli(['secrets', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((x: { ref: string }) => x.ref)).not.toContain('local:acme/other');
  });
});
