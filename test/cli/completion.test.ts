import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';

/**
 * `outloop completion` and the hidden `outloop __complete` behind it: candidates come from commander's
 * own command tree and from what this folder's tenant may run now. Bash is driven for real; every
 * command's --help carries examples.
 */
const CI = process.env.CI === 'true';
const fishOk = spawnSync('fish', ['--version'], { encoding: 'utf8' }).status === 0;
const zshOk = spawnSync('zsh', ['--version'], { encoding: 'utf8' }).status === 0;

describe('completion and help', () => {
  let e: E2E;
  let bin: string;
  beforeAll(() => {
    e = makeE2E(['acme', 'globex']);
    e.writeConfig(configYaml(e, {
      acme: 'github:\n  secrets: { GITHUB_TOKEN: "local:acme/github" }\n  allow: [list-issues, get-issue]\n  run: true',
      globex: 'stripe:\n  allow: ["*"]',
    }));
    bin = join(e.root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'outloop'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
    chmodSync(join(bin, 'outloop'), 0o755);
  });
  afterAll(() => e?.cleanup());

  const candidates = async (line: string, cwd = e.projects.acme) => {
    const r = await e.cli(['__complete', '--line', line], { cwd });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  };

  it('completes commands, options, granted targets, their parameters, tenants, services and recipes', async () => {
    expect(await candidates('outloop ex')).toEqual(['exec']);
    expect(await candidates('outloop exec ')).toEqual(['github.get-issue', 'github.list-issues']);
    expect(await candidates('outloop exec ', e.projects.globex)).toContain('stripe.list-invoices');
    expect(await candidates('outloop exec github.list-issues -p ')).toEqual(expect.arrayContaining(['owner=', 'repo=', 'state=']));
    expect(await candidates('outloop exec github.list-issues -p o')).toEqual(['owner=']);
    expect(await candidates('outloop exec --d')).toEqual(['--dry-run']);
    expect(await candidates('outloop grant ')).toEqual(['acme', 'globex']);
    expect(await candidates('outloop grant acme gi')).toEqual(['github', 'gitlab']);
    expect(await candidates('outloop grant acme github list-is')).toEqual(['list-issue-comments', 'list-issues']);
    expect(await candidates('outloop revoke globex ')).toEqual(['stripe']);
    expect(await candidates('outloop run --service ')).toEqual(['github']);
    expect(await candidates('outloop init --agent c')).toEqual(['claude-code', 'codex', 'cursor']);
    expect(await candidates('outloop audit --decision d')).toEqual(['deny']);
    expect(await candidates('outloop completion ')).toEqual(['bash', 'fish', 'zsh']);
    expect(await candidates('outloop recipes ')).toEqual(['lint', 'list', 'show']);
    expect(await candidates('outloop ')).not.toContain('__complete');
  });

  it('a broken config completes nothing and prints no error into the prompt', async () => {
    const broken = makeE2E(['acme']);
    broken.writeConfig('tenants: [\n');
    const r = await broken.cli(['__complete', '--line', 'outloop exec ']);
    broken.cleanup();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('the bash script completes through a real bash', () => {
    const script = spawnSync(process.execPath, [BIN, 'completion', 'bash'], { encoding: 'utf8', env: e.env }).stdout;
    const run = (line: string, words: string[]) =>
      spawnSync('bash', ['--norc', '-c', `${script}\nCOMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _outloop_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        encoding: 'utf8', cwd: e.projects.acme, env: { ...e.env, PATH: `${bin}:${e.env.PATH}` },
      }).stdout.split('\n').filter(Boolean);
    expect(run('outloop exec github.l', ['outloop', 'exec', 'github.l'])).toEqual(['github.list-issues']);
    expect(run('outloop che', ['outloop', 'che'])).toEqual(['check']);
  });

  it.skipIf(!fishOk && !CI)('the fish script completes through a real fish (complete -C)', () => {
    expect(fishOk, 'fish is required in CI (apt-get install -y fish)').toBe(true);
    const r = spawnSync('fish', ['--no-config', '-c', 'outloop completion fish | source; complete -C "outloop exec github.l"; complete -C "outloop exec github.list-issues -p re"'], {
      encoding: 'utf8', cwd: e.projects.acme, env: { ...e.env, PATH: `${bin}:${e.env.PATH}` },
    });
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['github.list-issues', 'repo=']);
  });

  it.skipIf(!zshOk && !CI)('the zsh script completes through a real zsh (compadd recorded, as zle is not there)', () => {
    expect(zshOk, 'zsh is required in CI (apt-get install -y zsh)').toBe(true);
    const script = spawnSync(process.execPath, [BIN, 'completion', 'zsh'], { encoding: 'utf8', env: e.env }).stdout;
    const r = spawnSync('zsh', ['-f', '-c', [
      'compdef() { :; }',
      script,
      // Record what would be offered: the words, with -S '' (no space after) marked.
      'compadd() { local s=; [[ $1 == -S ]] && { s=" nospace"; shift 2; }; shift; local a; for a in "$@"; do print -r -- "$a$s"; done; }',
      '_files() { print files; }',
      'words=(outloop exec ""); CURRENT=3; _outloop',
      'words=(outloop exec github.list-issues -p o); CURRENT=5; _outloop',
      'words=(outloop nope ""); CURRENT=3; _outloop',
    ].join('\n')], { encoding: 'utf8', cwd: e.projects.acme, env: { ...e.env, PATH: `${bin}:${e.env.PATH}` } });
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['github.get-issue', 'github.list-issues', 'owner= nospace', 'files']);
  });

  it('zsh and fish scripts call the same helper with the line up to the cursor', async () => {
    const zsh = (await e.cli(['completion', 'zsh'])).stdout;
    expect(zsh).toContain('#compdef outloop');
    expect(zsh).toContain('outloop __complete --line');
    const fish = (await e.cli(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c outloop -f -a '(outloop __complete --line (commandline -cp) 2>/dev/null)'");
    expect((await e.cli(['completion', 'tcsh'])).status).toBe(64);
  });

  it('every command\'s --help has examples', async () => {
    const commandsOf = (help: string) => {
      const at = help.indexOf('Commands:');
      if (at < 0) return [];
      const lines = help.slice(at).split('\n').slice(1);
      const end = lines.findIndex((l) => l.trim() === '');
      return lines.slice(0, end < 0 ? undefined : end).map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1]).filter((n): n is string => !!n && n !== 'help');
    };
    const seen: string[] = [];
    const walk = async (path: string[]) => {
      const r = await e.cli([...path, '--help']);
      expect(r.status, path.join(' ')).toBe(0);
      if (path.length) {
        seen.push(path.join(' '));
        expect(r.stdout, `outloop ${path.join(' ')} --help`).toContain('Examples:');
      }
      for (const c of commandsOf(r.stdout)) await walk([...path, c]);
    };
    await walk([]);
    expect(seen).toEqual(expect.arrayContaining(['exec', 'grant', 'tenant add', 'config check', 'completion', 'audit verify']));
    expect(seen.length).toBeGreaterThan(30);
  }, 120_000);
});
