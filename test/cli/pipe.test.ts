import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, type Sandbox } from '../helpers/cli.js';

// `outloop exec ... | head -1`: the reader leaves early. A bare command would die of SIGPIPE; outloop must
// do the same to the child, exit 141, and still record the outcome (not crash on EPIPE).
let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox(['acme']);
  sb.writeConfig(`tenants:\n  acme:\n    projects: [${JSON.stringify(sb.projects.acme)}]\n    services:\n      gen:\n        secrets: { TOKEN: env:GEN_TOKEN }\n        allow: ["*"]\n`);
  sb.writeRecipe(
    'gen',
    `service: gen\nsecrets: [TOKEN]\nrecipes:\n  flood:\n    description: endless output\n    risk: read\n    run: [sh, -c, 'while :; do echo "token=$TOKEN"; done']\n    env: { TOKEN: "{{secrets.TOKEN}}" }\n`,
  );
});
afterAll(() => sb.cleanup());

describe('a reader that goes away', () => {
  it('ends the child with SIGPIPE, exits 141 and audits the outcome', () => {
    const r = spawnSync('sh', ['-c', `node ${JSON.stringify(BIN)} exec gen.flood | head -n 2; echo "status=\${PIPESTATUS:-}"`], {
      cwd: sb.projects.acme,
      env: { ...sb.env, GEN_TOKEN: 'gen-secret-value-0123456789' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['token=[REDACTED:TOKEN]', 'token=[REDACTED:TOKEN]']);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    const audit = sb.run(['audit', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const end = audit.filter((rec) => rec.phase === 'end').at(-1);
    expect(end).toMatchObject({ decision: 'allow', exitCode: 141, service: 'gen', recipe: 'flood' });
    expect(JSON.stringify(audit)).not.toContain('gen-secret-value');
  });
});

describe('other commands into a reader that leaves', () => {
  it('stop quietly with status 141 instead of an internal error', () => {
    // `true` exits before outloop has started, so the first write certainly meets a closed pipe.
    const r = spawnSync('bash', ['-c', `node ${JSON.stringify(BIN)} --help | true; exit \${PIPESTATUS[0]}`], { env: sb.env, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(141);
  });
});
