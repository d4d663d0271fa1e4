import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, makeSystem, skipSystem, type SystemEnv } from './helpers.js';

// The daemon's spare workers parse config.yaml and the recipes before their request (src/system/warm.ts,
// src/config/kept.ts). A person's edit must still decide the very next request, whichever spare serves it
// (one warmed before the edit or after), in both directions, and a broken edit must fail closed.

const RECIPE = (word: string) => `service: greet
recipes:
  hello:
    description: says a word
    run: [sh, -c, 'printf ${word}']
  other:
    description: says another
    run: [sh, -c, 'printf other']
`;

let s: SystemEnv;
const grant = (allow: string) => configYaml(s, { acme: `greet:\n  allow: [${allow}]` });

describe.skipIf(skipSystem)('system mode: config and recipe edits take effect on the next request through warm spares', () => {
  beforeAll(async () => {
    s = await makeSystem(['acme']);
    s.writeRecipe('greet', RECIPE('hello'));
    s.writeConfig(grant('hello'));
    await s.startDaemon();
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('allowed, then denied, then allowed again: each edit decides the request right after it', async () => {
    const allowed = async () => {
      const r = await s.agent$(['exec', 'greet.hello']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hello');
      expect(r.status).toBe(0);
    };
    const denied = async () => {
      const r = await s.agent$(['exec', 'greet.hello']);
      expect(r.stderr).toContain('[recipe_not_allowed]');
      expect(r.status).toBe(77);
    };
    await allowed();
    await allowed();
    // Same length ("hello" / "other"): only the file's stamp tells the two apart.
    s.writeConfig(grant('other'));
    await denied();
    await denied();
    s.writeConfig(grant('hello'));
    await allowed();
    s.writeConfig(grant('other'));
    await denied();
    s.writeConfig(grant('hello'));
    await allowed();
    await allowed();
  });

  it('a recipe edit changes what runs on the next request', async () => {
    s.writeRecipe('greet', RECIPE('howdy'));
    expect((await s.agent$(['exec', 'greet.hello'])).stdout).toBe('howdy');
    s.writeRecipe('greet', RECIPE('hello'));
    expect((await s.agent$(['exec', 'greet.hello'])).stdout).toBe('hello');
    expect((await s.agent$(['exec', 'greet.hello'])).stdout).toBe('hello');
  });

  it('a config edited into a broken one fails closed on the next request (78); fixed, the next one runs', async () => {
    s.writeConfig(`${grant('hello')}  bogus: [\n`);
    const r = await s.agent$(['exec', 'greet.hello']);
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    expect((await s.agent$(['exec', 'greet.hello'])).status).toBe(78);
    s.writeConfig(grant('hello'));
    const ok = await s.agent$(['exec', 'greet.hello']);
    expect(ok.stdout).toBe('hello');
    expect(ok.status).toBe(0);
    const ends = s.audit().filter((x) => x.phase === 'end' && x.recipe === 'hello');
    expect(ends.filter((x) => x.decision === 'error' && x.exitCode === 78).length).toBe(2);
  });
});
