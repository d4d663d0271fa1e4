import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { configYaml, type E2E, makeE2E, plantedSecret, until } from '../e2e/helpers.js';

/**
 * `outloop run` on a real terminal: tmux provides it, the test types into it (send-keys) and reads the
 * screen with its colours (capture-pane -e). tmux is required in CI: there this suite fails, never
 * skips, when tmux is missing.
 */
const CI = process.env.CI === 'true';
const tmuxOk = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
if (CI && !tmuxOk) {
  describe('outloop run on a terminal', () => {
    it('needs tmux', () => {
      throw new Error('tmux is required in CI (apt-get install -y tmux)');
    });
  });
}

const SECRET = plantedSecret('sk_test');

/** pid and everything below it, from /proc (Linux: tmux is only required there). */
function withDescendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    /* gone already */
  }
  return [pid, ...kids.flatMap(withDescendants)];
}

describe.skipIf(!tmuxOk)('outloop run on a terminal (tmux)', () => {
  let e: E2E;
  let dir: string;
  const socket = `outloop-test-${process.pid}-${Date.now()}`;
  // The server's socket folder lives in the sandbox (TMUX_TMPDIR), so no tmux-UID folder is left in /tmp.
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: { ...e.env, TERM: 'xterm-256color', TMUX_TMPDIR: e.root } });
  const screen = (s: string) => tmux('capture-pane', '-p', '-e', '-t', s).stdout;
  const plain = (s: string) => tmux('capture-pane', '-p', '-t', s).stdout;

  beforeAll(async () => {
    e = makeE2E(['acme']);
    dir = e.projects.acme!;
    e.writeConfig(configYaml(e, { acme: 'stripe:\n  secrets: { STRIPE_KEY: "local:acme/stripe" }\n  run: true' }));
    await e.setSecret('local:acme/stripe', SECRET);
  });
  afterAll(async () => {
    if (e) {
      // The panes' processes (an `outloop run` among them) exit on the hang-up and write their code cache
      // into the sandbox's home as they go: wait for every one before the sandbox is removed.
      const pids = tmux('list-panes', '-a', '-F', '#{pane_pid}').stdout.split('\n').filter(Boolean).map(Number).flatMap(withDescendants);
      tmux('kill-server');
      await until(() => pids.every((pid) => !existsSync(`/proc/${pid}`)), 'the panes\' processes to exit', 20_000);
    }
    e?.cleanup();
  });

  /** Start `outloop run ... -- script` in a 100x30 tmux window; the shell records the exit code and the terminal modes. */
  const session = (name: string, body: string, flags: string[] = []) => {
    const script = join(dir, `${name}.sh`);
    writeFileSync(script, `#!/bin/bash\n${body}\n`);
    chmodSync(script, 0o755);
    const out = (f: string) => join(dir, `${name}.${f}`);
    const line = `cd ${dir} && stty -g > ${out('before')}; node ${BIN} run --service stripe ${flags.join(' ')} -- ./${name}.sh; echo $? > ${out('exit')}; stty -g > ${out('after')}; sleep 60`;
    const r = tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', line);
    expect(r.status, r.stderr).toBe(0);
    return {
      exitCode: async () => {
        await until(() => existsSync(out('after')) && readFileSync(out('after'), 'utf8').length > 0, `${name} to finish`, 20_000);
        return Number(readFileSync(out('exit'), 'utf8').trim());
      },
      modesRestored: () => readFileSync(out('before'), 'utf8') === readFileSync(out('after'), 'utf8'),
    };
  };

  it('keeps colours, prompts and the exit code, and redacts the secret on the terminal', async () => {
    const s = session('inter', [
      `printf '\\033[31mred\\033[0m \\033[1;32mbold-green\\033[0m key=%s\\n' "$STRIPE_KEY"`,
      '[ -t 0 ] && [ -t 1 ] && echo "tty: yes"',
      'echo "size: $(stty size)"',
      'read -p "Name? " name',
      'echo "hello $name"',
      // One key, no Enter: arrives only because outloop passes raw keystrokes through.
      'read -n 1 -s k; echo "single=$k"',
      'exit 42',
    ].join('\n'));
    await until(() => plain('inter').includes('Name?'), 'the prompt');
    tmux('send-keys', '-t', 'inter', 'bob');
    // Line editing happens in the child's terminal: a typo erased with backspace never reaches read.
    tmux('send-keys', '-t', 'inter', 'x', 'BSpace', 'Enter');
    await until(() => plain('inter').includes('hello bob'), 'the answer');
    tmux('send-keys', '-t', 'inter', 'z');
    expect(await s.exitCode()).toBe(42);
    const shown = screen('inter');
    expect(shown).toMatch(/\x1b\[31m\s*red/);
    expect(shown).toMatch(/\x1b\[1m.*\x1b\[32m.*bold-green|\x1b\[1;32m\s*bold-green/);
    expect(shown).toContain('key=[REDACTED:STRIPE_KEY]');
    expect(shown).not.toContain(SECRET);
    const text = plain('inter');
    expect(text).toContain('tty: yes');
    expect(text).toContain('hello bob\n');
    expect(text).toContain('single=z');
    const [rows, cols] = tmux('display-message', '-p', '-t', 'inter', '#{pane_height} #{pane_width}').stdout.trim().split(' ');
    expect(text).toContain(`size: ${rows} ${cols}`);
    expect(s.modesRestored()).toBe(true);
    const end = e.audit().at(-1)!;
    expect(end).toMatchObject({ mode: 'run', phase: 'end', exitCode: 42, pty: true, redactions: 1 });
    expect(readFileSync(join(e.home, 'audit.jsonl'), 'utf8')).not.toContain(SECRET);
  });

  it("passes the child's terminal bytes through unchanged: a bare line feed moves down without a carriage return", async () => {
    // Full-screen programs turn onlcr off and use a bare LF as "cursor down"; if outloop's own terminal
    // still post-processed output, each LF would become CR LF and the screen would shear to column 0.
    const s = session('lf', ["stty -onlcr; printf 'abc\\ndef\\r\\n'; stty onlcr", 'exit 0'].join('\n'));
    expect(await s.exitCode()).toBe(0);
    const lines = plain('lf').split('\n');
    const at = lines.findIndex((l) => l.startsWith('abc'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toBe('   def');
    expect(s.modesRestored()).toBe(true);
  });

  it('delivers Ctrl-C to the child exactly once and a window size change as SIGWINCH', async () => {
    const s = session('keys', [
      'ints=0; trap \'ints=$((ints+1)); echo "got int"\' INT',
      'trap \'echo "winch: $(stty size)"\' WINCH',
      'echo ready',
      // Runs until the test has seen the new size (the stop file), not for a fixed time: under load the
      // resize can arrive seconds later, and a child that already exited would never print it.
      'for i in $(seq 1 600); do sleep 0.05; [ -f stop ] && break; done',
      'echo "ints=$ints"',
      'exit 3',
    ].join('\n'));
    await until(() => plain('keys').includes('ready'), 'ready');
    tmux('send-keys', '-t', 'keys', 'C-c');
    // One at a time: a resize that overtakes the keypress (a signal is quicker than a byte through two
    // terminals) would have the SIGINT land inside the WINCH trap and kill its `stty size`.
    await until(() => plain('keys').includes('got int'), 'the Ctrl-C to reach the child');
    tmux('resize-window', '-t', 'keys', '-x', '80', '-y', '20');
    await until(() => /winch: \d+ 80/.test(plain('keys')), 'the new size to reach the child');
    writeFileSync(join(dir, 'stop'), '');
    expect(await s.exitCode()).toBe(3);
    expect(plain('keys')).toContain('ints=1');
    expect(s.modesRestored()).toBe(true);
  });

  it('--no-pty on a terminal: pipes, still redacted, and the terminal is left as it was', async () => {
    const s = session('nopty', [
      '[ -t 1 ] && echo "stdout tty" || echo "stdout pipe"',
      'echo "k=$STRIPE_KEY"',
      'printf "ok? "; read a; echo "got $a"',
      'ints=0; trap \'ints=$((ints+1)); echo "got int"\' INT',
      'echo armed',
      'for i in $(seq 1 40); do sleep 0.05; done',
      'echo "ints=$ints"',
      'exit 4',
    ].join('\n'), ['--no-pty']);
    await until(() => plain('nopty').includes('ok?'), 'the prompt');
    tmux('send-keys', '-t', 'nopty', 'yes', 'Enter');
    // The terminal sends SIGINT to outloop's group; the command, in its own group, gets it from outloop: once.
    await until(() => plain('nopty').includes('armed'), 'the trap');
    tmux('send-keys', '-t', 'nopty', 'C-c');
    expect(await s.exitCode()).toBe(4);
    const text = plain('nopty');
    expect(text).toContain('stdout pipe');
    expect(text).toContain('k=[REDACTED:STRIPE_KEY]');
    expect(text).toContain('got yes');
    expect(text).toContain('ints=1');
    expect(s.modesRestored()).toBe(true);
  });

  it('Ctrl-Z suspends the wrapped command with outloop, as a job of the shell, and fg resumes both', async () => {
    // An interactive shell with job control, as a person's terminal has.
    const out = (f: string) => join(dir, `susp.${f}`);
    writeFileSync(join(dir, 'susp.sh'), [
      '#!/bin/bash',
      'echo ready',
      // Ticks while running: a stopped child writes none.
      `( while :; do date +%s%N >> ${out('ticks')}; sleep 0.05; done ) & ticker=$!`,
      'read -r line',
      'kill $ticker',
      'echo "got $line"',
      'exit 5',
    ].join('\n'));
    chmodSync(join(dir, 'susp.sh'), 0o755);
    expect(tmux('new-session', '-d', '-s', 'susp', '-x', '100', '-y', '30', 'bash --norc --noprofile -i').status).toBe(0);
    // One command per line: bash goes on with the rest of a list when a job in it stops.
    tmux('send-keys', '-t', 'susp', `cd ${dir} && stty -g > ${out('before')}`, 'Enter');
    tmux('send-keys', '-t', 'susp', `node ${BIN} run --service stripe -- ./susp.sh`, 'Enter');
    await until(() => plain('susp').includes('ready') && existsSync(out('ticks')), 'the command to start');
    tmux('send-keys', '-t', 'susp', 'C-z');
    await until(() => /Stopped/.test(plain('susp')), 'the shell to report the job stopped', 10_000);
    const lines = () => readFileSync(out('ticks'), 'utf8').split('\n').filter(Boolean).length;
    await new Promise((r) => setTimeout(r, 200));
    const stoppedAt = lines();
    await new Promise((r) => setTimeout(r, 600));
    expect(lines() - stoppedAt).toBeLessThanOrEqual(1);
    tmux('send-keys', '-t', 'susp', 'fg', 'Enter');
    await until(() => lines() > stoppedAt + 3, 'the command to run again after fg');
    tmux('send-keys', '-t', 'susp', 'hello', 'Enter');
    await until(() => plain('susp').includes('got hello'), 'the command to read its input', 15_000);
    tmux('send-keys', '-t', 'susp', `echo "exit=$?"; stty -g > ${out('after')}`, 'Enter');
    // The typed line echoes `exit=$?` before bash runs it, so wait for the printed form only.
    await until(() => /^exit=\d+/m.test(plain('susp')), 'the command to finish', 15_000);
    expect(plain('susp')).toMatch(/^exit=5$/m);
    await until(() => existsSync(out('after')) && readFileSync(out('after'), 'utf8').length > 0, 'the modes');
    expect(readFileSync(out('after'), 'utf8')).toBe(readFileSync(out('before'), 'utf8'));
  });
});
