/**
 * System-mode tests: real users, a real daemon. As root, a test makes sure the daemon's user (`outloop`)
 * and an unprivileged agent user (`outloop-agent`) exist, copies the built package into a private prefix
 * (so both users can read it wherever the clone lives), installs there with `outloop system install
 * --prefix`, starts `outloopd --foreground` as the daemon's user and runs commands as the agent's uid.
 * Each test file uses its own prefix, so files run in parallel. Without root, setpriv or bwrap these
 * suites skip, except with CI=true, where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { detectSandbox } from '../../src/sandbox/detect.js';

export const CI = process.env.CI === 'true';
export const DAEMON_USER = 'outloop';
export const AGENT_USER = 'outloop-agent';
/** The system-mode client as a native program (native/client), relative to the package. */
export const NATIVE_CLIENT = 'native/client/build/Release/outloop';

function missingParts(): string[] {
  const miss: string[] = [];
  if (process.platform !== 'linux') miss.push('Linux');
  if (process.getuid?.() !== 0) miss.push('root');
  for (const c of ['setpriv', 'useradd', 'getent', 'script']) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) miss.push(c);
  if (!detectSandbox(process.env.PATH, 'linux').available) miss.push('bubblewrap');
  if (!existsSync(resolve('native/peercred/build/Release/peercred.node'))) miss.push('the peercred addon (npm ci builds it)');
  return miss;
}
const missing = missingParts();
export const skipSystem = missing.length > 0 && !CI;
export function requireSystem(): void {
  if (missing.length) throw new Error(`system-mode tests need ${missing.join(', ')} (CI: .ci/run sets these up)`);
}

function id(user: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('getent', ['passwd', user], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const f = r.stdout.trim().split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Create a user if missing; two test files doing it at once is fine (the loser finds it made). */
export function ensureUser(user: string): { uid: number; gid: number } {
  const have = id(user);
  if (have) return have;
  spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', user]);
  const made = id(user);
  if (!made) throw new Error(`could not create user ${user}`);
  return made;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface SystemEnv {
  prefix: string;
  pkg: string;
  socket: string;
  agent: { uid: number; gid: number; home: string };
  daemonUser: { uid: number; gid: number };
  projects: Record<string, string>;
  daemon: ChildProcess | undefined;
  daemonStderr(): string;
  /** outloopd as its user; `coreLimit` is the `ulimit -c` it is started under (0, as the unit's LimitCORE=0). */
  startDaemon(o?: { coreLimit?: string }): Promise<void>;
  stopDaemon(): Promise<number | null>;
  /** `outloop ARGS` as the agent's uid (through setpriv), with OUTLOOP_SOCKET set. */
  agent$(args: string[], o?: RunOpts): Promise<Result>;
  /** Any command as the agent's uid. */
  agentRaw(argv: string[], o?: RunOpts): Promise<Result>;
  startAgent(argv: string[], o?: RunOpts): { child: ChildProcess; done: Promise<Result>; stdout(): string };
  /** `outloop ARGS` as root (a person, as under sudo). */
  root$(args: string[], o?: RunOpts): Promise<Result>;
  writeConfig(yaml: string): void;
  writeRecipe(service: string, yaml: string): void;
  audit(): Record<string, unknown>[];
  cleanup(): Promise<void>;
}

function collect(child: ChildProcess, input: string | undefined, timeoutMs: number): { done: Promise<Result>; stdout(): string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.on('error', () => {});
  child.stdin?.end(input ?? '');
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Result>((res, rej) => {
    child.once('error', rej);
    child.once('close', (status) => {
      clearTimeout(killer);
      res({ status, stdout, stderr });
    });
  });
  return { done, stdout: () => stdout };
}

export async function makeSystem(tenants: string[] = ['acme', 'globex']): Promise<SystemEnv> {
  requireSystem();
  const daemonUser = ensureUser(DAEMON_USER);
  const agentIds = ensureUser(AGENT_USER);
  const prefix = realpathSync(mkdtempSync('/tmp/outloop-sys-'));
  chmodSync(prefix, 0o755);
  // The package, readable by both users wherever the clone is (CI may clone under /root).
  const pkg = join(prefix, 'opt', 'outloop');
  mkdirSync(pkg, { recursive: true });
  for (const p of ['bin', 'dist', 'recipes', 'package.json']) cpSync(resolve(p), join(pkg, p), { recursive: true });
  mkdirSync(join(pkg, 'native', 'peercred', 'build', 'Release'), { recursive: true });
  cpSync(resolve('native/peercred/build/Release/peercred.node'), join(pkg, 'native', 'peercred', 'build', 'Release', 'peercred.node'));
  if (existsSync(resolve(NATIVE_CLIENT))) cpSync(resolve(NATIVE_CLIENT), join(pkg, NATIVE_CLIENT));
  symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'));
  const bin = join(pkg, 'bin', 'outloop.js');
  const inst = spawnSync(process.execPath, [bin, 'system', 'install', '--prefix', prefix, '--user', DAEMON_USER], { encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`system install failed: ${inst.stderr}`);
  const socket = join(prefix, 'run', 'outloop', 'broker.sock');
  const home = join(prefix, 'agent-home');
  mkdirSync(home);
  chownSync(home, agentIds.uid, agentIds.gid);
  const projects: Record<string, string> = {};
  for (const t of tenants) {
    const p = join(prefix, 'clients', t);
    mkdirSync(p, { recursive: true });
    chownSync(p, agentIds.uid, agentIds.gid);
    projects[t] = p;
  }
  const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8', HOME: home, OUTLOOP_SOCKET: socket };
  const setpriv = (user: string) => ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', '--'];
  let daemon: ChildProcess | undefined;
  let daemonErr = '';

  const startAgent = (argv: string[], o: RunOpts = {}) => {
    const [cmd, ...rest] = [...setpriv(AGENT_USER), ...argv] as unknown as [string, ...string[]];
    const child = spawn(cmd, rest, { cwd: o.cwd ?? projects[tenants[0]!] ?? prefix, env: { ...baseEnv, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const c = collect(child, o.input, o.timeoutMs ?? 30_000);
    return { child, ...c };
  };
  const env: SystemEnv = {
    prefix,
    pkg,
    socket,
    agent: { ...agentIds, home },
    daemonUser,
    projects,
    get daemon() {
      return daemon;
    },
    daemonStderr: () => daemonErr,
    async startDaemon(o = {}) {
      // As the unit's LimitCORE=0 would: no core dump of the daemon's memory.
      const [cmd, ...rest] = ['sh', '-c', `ulimit -c ${o.coreLimit ?? '0'} && exec "$@"`, 'sh', ...setpriv(DAEMON_USER), process.execPath, join(pkg, 'bin', 'outloopd.js'), '--foreground', '--prefix', prefix] as unknown as [string, ...string[]];
      const d = spawn(cmd, rest, { env: { PATH: baseEnv.PATH, LANG: 'C.UTF-8', OUTLOOPD_STALL_MS: '1500' }, stdio: ['ignore', 'pipe', 'pipe'] });
      daemon = d;
      d.stderr!.setEncoding('utf8').on('data', (s: string) => (daemonErr += s));
      await new Promise<void>((res, rej) => {
        let out = '';
        const t = setTimeout(() => rej(new Error(`outloopd did not print ready: ${daemonErr}`)), 20_000);
        d.stdout!.setEncoding('utf8').on('data', (s: string) => {
          out += s;
          if (out.includes('ready\n')) {
            clearTimeout(t);
            res();
          }
        });
        d.once('exit', (code) => {
          clearTimeout(t);
          rej(new Error(`outloopd exited ${code}: ${daemonErr}`));
        });
      });
    },
    async stopDaemon() {
      const d = daemon;
      if (!d || d.exitCode !== null || d.signalCode !== null) return d?.exitCode ?? null;
      const exited = new Promise<number | null>((res) => d.once('exit', (code) => res(code)));
      d.kill('SIGTERM');
      const code = await exited;
      daemon = undefined;
      return code;
    },
    agent$: (args, o = {}) => startAgent([process.execPath, bin, ...args], o).done,
    agentRaw: (argv, o = {}) => startAgent(argv, o).done,
    startAgent,
    root$: (args, o = {}) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: o.cwd ?? prefix, env: { ...baseEnv, HOME: '/root', ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      return collect(child, o.input, o.timeoutMs ?? 30_000).done;
    },
    writeConfig: (yaml) => writeFileSync(join(prefix, 'etc', 'outloop', 'config.yaml'), yaml, { mode: 0o644 }),
    writeRecipe: (service, yaml) => writeFileSync(join(prefix, 'etc', 'outloop', 'recipes', `${service}.yaml`), yaml, { mode: 0o644 }),
    audit: () => {
      const r = spawnSync('cat', [join(prefix, 'var', 'log', 'outloop', 'audit.jsonl')], { encoding: 'utf8' });
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async cleanup() {
      await env.stopDaemon();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
  return env;
}

/** Config for tenants with the given services YAML (indented under services:). */
export function configYaml(s: SystemEnv, services: Record<string, string>): string {
  const tenants = Object.entries(services)
    .map(([t, yaml]) => `  ${t}:\n    projects: [${JSON.stringify(s.projects[t])}]\n    services:\n${yaml.trim().split('\n').map((l) => `      ${l}`).join('\n')}\n`)
    .join('');
  return `storeKey: file\ntenants:\n${tenants}`;
}

/**
 * A real MCP SDK client session with `outloop mcp` started as the agent's uid (argv is the client: node
 * with bin/outloop.js, or the native client), in the first tenant's project: the tool names it lists and
 * what calling `tool` returned, as JSON text.
 */
export async function mcpCall(s: SystemEnv, argv: string[], tool: string): Promise<{ tools: string[]; result: string }> {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const transport = new StdioClientTransport({
    command: 'setpriv', args: [`--reuid=${AGENT_USER}`, `--regid=${AGENT_USER}`, '--init-groups', '--', ...argv, 'mcp'],
    cwd: Object.values(s.projects)[0], env: { PATH: '/usr/bin:/bin', OUTLOOP_SOCKET: s.socket, HOME: s.agent.home }, stderr: 'pipe',
  });
  const client = new Client({ name: 'outloop-system-test', version: '0.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return { tools: tools.map((t) => t.name), result: JSON.stringify(await client.callTool({ name: tool, arguments: {} })) };
  } finally {
    await client.close();
  }
}

/**
 * The `len` service the system tests grant: `show` prints the value's length and the value (the redactor
 * must mask the second), plus each test file's own recipes, in recipe-file YAML under `recipes:`.
 */
export function lenRecipes(more = ''): string {
  return `service: len
secrets: [TOKEN]
recipes:
  show:
    description: the value's length and the value
    run: [sh, -c, 'printf "%s <%s>" "\${#T}" "$T"']
    env: { T: "{{secrets.TOKEN}}" }
${more}`;
}
