/**
 * `outloop doctor`: is this machine and project ready, and safe, for an agent? Three parts:
 *   project   which config and tenant the working directory resolves to;
 *   backends  for the tenant's grants, whether each backend their references use would answer;
 *   safety    what would let an agent reach credentials without outloop.
 *
 * Doctor never reads a secret value. It does not go through the backend registry at all: every probe is
 * here and asks only whether something is present or reachable (a file's mode, a CLI's --version, a
 * health endpoint). The local store's file is read for its key source and entry names, never its key.
 * Exit 0 when nothing is `fail`, 1 otherwise.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadRequestContext, type Environment } from '../broker/context.js';
import type { Config } from '../config/schema.js';
import { asOutloopError } from '../errors.js';
import { expandHome } from '../paths.js';
import { findExecutable } from '../runner/which.js';
import { describeShape } from '../redact/shapes/index.js';
import { parseRef } from '../secrets/ref.js';
import { cliEnvironment } from './deps.js';
import type { CliOptions } from './main.js';
import { shellQuote, writeJson } from './output.js';
import { hasSessionBus } from '../../adapters/os-keychain.js';
import { parseStore, type Store } from '../../adapters/local-format.js';
import { shortLengthProblem } from '../redact/short-values.js';
import { storeKeyNote } from './key-note.js';
import { looksLikeSecretValue, secretLikeName } from '../runner/run-env.js';

export type Severity = 'ok' | 'warn' | 'fail';

export interface Finding {
  section: 'mode' | 'project' | 'backends' | 'safety';
  /** Stable id an agent can branch on, e.g. backend.local, env.name, dotenv.file. */
  check: string;
  severity: Severity;
  message: string;
  fix?: string;
}

export interface BackendUse {
  backend: string;
  refs: { ref: string; usedBy: string }[];
}

export interface DoctorReport {
  ok: boolean;
  /** personal: one user, no daemon; system: outloopd under its own user (the contract's doctor field). */
  mode: 'personal' | 'system';
  cwd: string;
  configFile: string;
  tenant: string | null;
  project: string | null;
  backends: BackendUse[];
  findings: Finding[];
  summary: Record<Severity, number>;
}

export interface DoctorDeps extends Environment {
  platform?: NodeJS.Platform;
  /** How long a CLI's --version or Vault's health check may take. */
  probeTimeoutMs?: number;
}

export async function doctorCommand(o: { json?: boolean }, opts: CliOptions): Promise<number> {
  const r = await runDoctor(cliEnvironment(opts));
  if (o.json) writeJson(r);
  else process.stdout.write(formatReport(r));
  return r.ok ? 0 : 1;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const { homes, env } = deps;
  const { systemContext } = await import('../system/mode.js');
  const { modeChecks } = await import('../system/checks.js');
  const sys = systemContext();
  for (const m of modeChecks(sys)) add({ section: 'mode', ...m });
  let cwd = deps.cwd;
  let tenant: string | null = null;
  let project: string | null = null;
  let config: Config | undefined;

  try {
    let ctx;
    let unsafe = false;
    try {
      ctx = await loadRequestContext(deps);
    } catch (err) {
      const e = asOutloopError(err);
      if (e.code !== 'unsafe_config' && e.code !== 'config_swapped') throw err;
      // Every request is refused until this is fixed; say why, then look at the rest as it stands.
      add({ section: 'project', check: 'config', severity: 'fail', message: `config: ${e.message}`, ...(e.next ? { fix: e.next } : {}) });
      ctx = await loadRequestContext(deps, { guard: false });
      unsafe = true;
    }
    cwd = ctx.cwd;
    if (ctx.config.exists) {
      config = ctx.config.config;
      if (!unsafe) add({ section: 'project', check: 'config', severity: 'ok', message: `config: ${homes.configFile}` });
    } else {
      add({ section: 'project', check: 'config', severity: 'warn', message: `no config at ${homes.configFile}: every request is denied`, fix: 'Run `outloop init --tenant NAME` in your project folder.' });
    }
    if (ctx.binding) {
      tenant = ctx.binding.tenant;
      project = ctx.binding.project;
      add({ section: 'project', check: 'tenant', severity: 'ok', message: `tenant: ${tenant} (project ${project})` });
    } else if (ctx.config.exists) {
      add({
        section: 'project',
        check: 'tenant',
        severity: 'warn',
        message: `${cwd} belongs to no tenant: every request from here is denied`,
        fix: `Add this folder to a tenant's projects: in ${homes.configFile}.`,
      });
    }
  } catch (err) {
    const e = asOutloopError(err);
    add({ section: 'project', check: 'config', severity: 'fail', message: `config: ${e.message}`, fix: e.next ?? `Fix ${homes.configFile}.` });
  }

  const backends = tenant && config ? backendUses(config, tenant) : [];
  if (tenant && !backends.length) add({ section: 'backends', check: 'backends', severity: 'ok', message: `no grant of tenant ${tenant} references a secret` });
  for (const use of backends) for (const f of await probeBackend(use, deps)) add(f);

  for (const f of envFindings(env, backends)) add(f);
  for (const f of dotenvFindings(project ?? cwd)) add(f);
  const key = keyFileFinding(homes.storeKeyFile);
  if (key) add(key);
  for (const f of permissionFindings([homes.configFile, homes.configDir, homes.recipesDir, homes.stateDir])) add(f);
  const { sandboxFinding } = await import('../sandbox/doctor.js');
  add({ section: 'safety', check: 'sandbox', ...sandboxFinding(env.PATH, deps.platform ?? process.platform, config, tenant) });
  const placeholders = (await import('../placeholder/doctor.js')).placeholderFinding(homes.stateDir, config);
  if (placeholders) add({ section: 'safety', check: 'placeholders', ...placeholders });

  const summary: Record<Severity, number> = { ok: 0, warn: 0, fail: 0 };
  for (const f of findings) summary[f.severity]++;
  return { ok: summary.fail === 0, mode: sys ? 'system' : 'personal', cwd, configFile: homes.configFile, tenant, project, backends, findings, summary };
}

// ---------------------------------------------------------------------------------------------------------
// Backends

function backendUses(config: Config, tenant: string): BackendUse[] {
  const by = new Map<string, BackendUse>();
  for (const [service, grant] of Object.entries(config.tenants[tenant]?.services ?? {})) {
    for (const [name, raw] of Object.entries(grant.secrets)) {
      const ref = parseRef(raw, tenant);
      const use = by.get(ref.backend) ?? { backend: ref.backend, refs: [] };
      use.refs.push({ ref: ref.raw, usedBy: `${service}.${name}` });
      by.set(ref.backend, use);
    }
  }
  return [...by.values()].sort((a, b) => a.backend.localeCompare(b.backend));
}

async function probeBackend(use: BackendUse, deps: DoctorDeps): Promise<Finding[]> {
  const usedBy = use.refs.map((r) => r.usedBy).join(', ');
  const one = (severity: Severity, message: string, fix?: string): Finding[] => [
    { section: 'backends', check: `backend.${use.backend}`, severity, message: `${use.backend}: ${message}`, ...(fix ? { fix } : {}) },
  ];
  const platform = deps.platform ?? process.platform;
  switch (use.backend) {
    case 'local':
      return probeLocal(use, deps, platform);
    case 'env':
      return use.refs.map(({ ref, usedBy: by }): Finding => {
        const name = ref.slice('env:'.length);
        const set = Object.prototype.hasOwnProperty.call(deps.env, name) && Boolean(deps.env[name]);
        return set
          ? { section: 'backends', check: 'backend.env', severity: 'ok', message: `env: ${name} is set (used by ${by})` }
          : { section: 'backends', check: 'backend.env', severity: 'warn', message: `env: ${name} is not set here (used by ${by})`, fix: `Set ${name} in the environment outloop runs in.` };
      });
    case 'op':
    case 'doppler':
    case 'infisical': {
      const found = findExecutable(use.backend, deps.env.PATH, deps.cwd);
      if (!found) return one('fail', `the ${use.backend} CLI is not on PATH (used by ${usedBy})`, `Install it: ${INSTALL[use.backend]}`);
      const version = await versionOf(found, deps);
      if (version === undefined) return one('fail', `${found} --version did not answer (used by ${usedBy})`, `Check that ${found} runs.`);
      return one('ok', `${use.backend} CLI ${version} at ${found} (used by ${usedBy})`);
    }
    case 'vault':
      return (await probeVault(deps)).map((f) => ({ section: 'backends', check: 'backend.vault', ...f, message: `vault: ${f.message}${f.severity === 'ok' ? ` (used by ${usedBy})` : ''}` }));
    case 'keychain':
      return hasKeychain(deps.env, platform)
        ? one('ok', `the OS keychain is reachable (used by ${usedBy})`)
        : one('fail', `no OS keychain is reachable: no D-Bus session bus for a Secret Service (used by ${usedBy})`, 'Run outloop inside a desktop session (gnome-keyring, KWallet), or move these secrets to local:.');
    default:
      return one('fail', `unknown backend (used by ${usedBy})`);
  }
}

const INSTALL: Readonly<Record<string, string>> = {
  op: 'https://developer.1password.com/docs/cli/get-started/',
  doppler: 'https://docs.doppler.com/docs/install-cli',
  infisical: 'https://infisical.com/docs/cli/overview',
};

/** `X --version` prints no secret; only a tidy first line is shown, in case it prints more than a version. */
function versionOf(file: string, deps: DoctorDeps): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { env: deps.env, cwd: deps.cwd, timeout: deps.probeTimeoutMs ?? 5000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const line = String(stdout).trim().split('\n')[0] ?? '';
      resolve(/^[\w .+-]{1,60}$/.test(line) ? line : 'found');
    });
  });
}

function probeLocal(use: BackendUse, deps: DoctorDeps, platform: NodeJS.Platform): Finding[] {
  const { storeFile, storeKeyFile } = deps.homes;
  const findings: Finding[] = [];
  const add = (severity: Severity, message: string, fix?: string) =>
    findings.push({ section: 'backends', check: 'backend.local', severity, message: `local: ${message}`, ...(fix ? { fix } : {}) });
  let store: Store;
  try {
    // The store's own reader: no key needed, nothing decrypted.
    store = parseStore(readFileSync(storeFile, 'utf8'), storeFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      add('warn', `no store at ${storeFile} yet, so no value is stored for ${use.refs.map((r) => r.ref).join(', ')}`, `Store each value: printf %s "$VALUE" | outloop secrets set ${use.refs[0]!.ref}`);
      return findings;
    }
    add('fail', `the store ${storeFile} cannot be read (damaged or unreadable)`, `Restore ${storeFile} from a backup.`);
    return findings;
  }

  if (store.keySource === 'file') {
    if (keyFileFinding(storeKeyFile)) add('fail', `the store refuses its key file ${storeKeyFile}: it is open to other users (see Safety)`, `chmod 600 ${storeKeyFile}`);
    else if (!existsSync(storeKeyFile)) add('fail', `the store key file ${storeKeyFile} is missing: no stored value can be decrypted`, `Restore ${storeKeyFile} from a backup.`);
    else {
      const note = storeKeyNote('file', storeKeyFile, hasKeychain(deps.env, platform));
      add(note.severity, `store ${storeFile} answers: ${note.message}`, note.fix);
    }
  } else if (hasKeychain(deps.env, platform)) {
    add('ok', `store ${storeFile} answers: ${storeKeyNote('keychain', storeKeyFile, true).message}`);
  } else {
    add('fail', `the store key is in the OS keychain, and no keychain is reachable here (no D-Bus session bus)`, 'Run outloop inside the desktop session whose keyring holds the key.');
  }

  const stored = use.refs.filter((r) => store.entries.has(r.ref.slice('local:'.length)));
  for (const r of use.refs) {
    if (!stored.includes(r)) add('warn', `no value stored for ${r.ref} (used by ${r.usedBy})`, `printf %s "$VALUE" | outloop secrets set ${r.ref}`);
  }
  if (stored.length) add('ok', `${stored.length} of ${use.refs.length} references stored (${stored.map((r) => r.usedBy).join(', ')})`);
  // A sealed entry is as long as its value (AES-GCM adds no padding): a short value shows without decrypting.
  for (const r of stored) {
    const short = shortLengthProblem(Buffer.byteLength(store.entries.get(r.ref.slice('local:'.length))!.data, 'base64'));
    if (short) add('warn', `${r.ref} (used by ${r.usedBy}): ${short.message}`, `Store a longer value: printf %s "$VALUE" | outloop secrets set ${r.ref}`);
  }
  return findings;
}

async function probeVault(deps: DoctorDeps): Promise<Omit<Finding, 'section' | 'check'>[]> {
  const env = deps.env;
  const out: Omit<Finding, 'section' | 'check'>[] = [];
  const addr = env.VAULT_ADDR;
  const tokenFile = join(expandHome('~', env), '.vault-token');
  if (!env.VAULT_TOKEN && !existsSync(tokenFile)) out.push({ severity: 'fail', message: `no token: VAULT_TOKEN is not set and ${tokenFile} does not exist`, fix: 'Log in with `vault login`, or set VAULT_TOKEN where outloop runs.' });
  if (!addr) {
    out.push({ severity: 'fail', message: 'VAULT_ADDR is not set', fix: 'Set VAULT_ADDR to your Vault server, e.g. https://vault.example.com:8200.' });
    return out;
  }
  let url: URL;
  try {
    url = new URL('/v1/sys/health', addr);
  } catch {
    out.push({ severity: 'fail', message: 'VAULT_ADDR is not a URL', fix: 'Set VAULT_ADDR to a URL such as https://vault.example.com:8200.' });
    return out;
  }
  // The health endpoint needs no token, and none is sent: doctor proves reachability, not access.
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(deps.probeTimeoutMs ?? 5000), redirect: 'manual' });
    await res.body?.cancel();
    const state = VAULT_HEALTH[res.status];
    if (state === 'sealed' || state === 'not initialized') out.push({ severity: 'fail', message: `${url.origin} answers but is ${state}`, fix: 'Unseal or initialise the Vault server.' });
    else if (state) out.push({ severity: 'ok', message: `${url.origin} answers (${state})` });
    else out.push({ severity: 'warn', message: `${url.origin} answered HTTP ${res.status} to /v1/sys/health`, fix: 'Check that VAULT_ADDR points at Vault (or OpenBao).' });
  } catch {
    out.push({ severity: 'fail', message: `${url.origin} is not reachable`, fix: 'Check VAULT_ADDR, the network, and that the server is up.' });
  }
  return out;
}

const VAULT_HEALTH: Readonly<Record<number, string>> = {
  200: 'active',
  429: 'standby',
  472: 'disaster-recovery secondary',
  473: 'performance standby',
  501: 'not initialized',
  503: 'sealed',
};

function hasKeychain(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  // The same test the keychain adapters make before they ask the Secret Service.
  return hasSessionBus(env);
}

// ---------------------------------------------------------------------------------------------------------
// Safety


/**
 * The kind of secret a value looks like, by the same rule set that redacts output (src/redact/shapes),
 * or undefined. Matched against values that are never printed: a match names the kind only.
 */
export function secretShapeOf(value: string): string | undefined {
  // The same two checks `outloop run` strips the environment by (runner/run-env.ts), so doctor flags
  // exactly what run would withhold.
  const id = looksLikeSecretValue(value);
  return id === undefined ? undefined : `${describeShape(id)} [${id}]`;
}

function envFindings(env: NodeJS.ProcessEnv, backends: BackendUse[]): Finding[] {
  const usedByOutloop = new Set(backends.find((b) => b.backend === 'env')?.refs.map((r) => r.ref.slice('env:'.length)) ?? []);
  const out: Finding[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!value) continue;
    const kind = secretShapeOf(value);
    const byName = secretLikeName(name);
    if (!kind && !byName) continue;
    const why = kind ? `holds what looks like ${kind}` : 'looks like a credential by its name';
    const note = usedByOutloop.has(name) ? ` (an env: reference of this tenant uses it, and so could any agent that inherits this environment)` : '';
    out.push({
      section: 'safety',
      check: kind ? 'env.shape' : 'env.name',
      severity: kind ? 'fail' : 'warn',
      message: `environment variable ${name} ${why}; an agent started from here inherits it${note}`,
      fix: `Unset ${name} where agents run; store the value with \`outloop secrets set local:TENANT/NAME\` and bind it in config.yaml.`,
    });
  }
  if (!out.length) out.push({ section: 'safety', check: 'env', severity: 'ok', message: 'no credential-like environment variables' });
  return out;
}

const DOTENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template']);
const SKIP_DIRS = new Set(['node_modules', '.git']);

/** `.env`-like files up to two folders below root; symlinked folders are not followed. */
export function findDotenvFiles(root: string, maxDepth = 2): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth && !SKIP_DIRS.has(e.name)) walk(p, depth + 1);
      } else if ((e.isFile() || e.isSymbolicLink()) && (e.name === '.env' || (e.name.startsWith('.env.') && !DOTENV_TEMPLATES.has(e.name)))) {
        out.push(p);
      }
    }
  };
  walk(root, 0);
  return out;
}

function dotenvFindings(root: string): Finding[] {
  const files = findDotenvFiles(root);
  if (!files.length) return [{ section: 'safety', check: 'dotenv', severity: 'ok', message: `no .env files in ${root}` }];
  return files.map((f) => {
    const rel = relative(root, f) || f;
    return {
      section: 'safety',
      check: 'dotenv.file',
      severity: 'warn',
      message: `${rel} in ${root}: an agent working here can read its values in clear`,
      fix: `outloop secrets import ${shellQuote(rel)} --service NAME, then delete it (shred -u ${shellQuote(rel)}).`,
    } satisfies Finding;
  });
}

/** A store key file that others may read: the store then refuses it, and the key should count as exposed. */
function keyFileFinding(file: string): Finding | undefined {
  let mode: number;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) return undefined;
    mode = st.mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return {
    section: 'safety',
    check: 'store.key',
    severity: 'fail',
    message: `the store key ${file} is open to other users (mode ${octal(mode)})`,
    fix: `chmod 600 ${file}, and consider its values exposed if others can log in here.`,
  };
}

function permissionFindings(paths: string[]): Finding[] {
  const out: Finding[] = [];
  for (const p of [...new Set(paths)]) {
    let mode: number;
    try {
      mode = statSync(p).mode;
    } catch {
      continue;
    }
    if ((mode & 0o022) === 0) continue;
    out.push({
      section: 'safety',
      check: 'permissions',
      severity: 'fail',
      message: `${p} is writable by group or others (mode ${octal(mode)}): another user could rebind tenants, rewrite recipes or the audit log`,
      fix: `chmod go-w ${p}`,
    });
  }
  if (!out.length) out.push({ section: 'safety', check: 'permissions', severity: 'ok', message: 'config and state are writable only by you' });
  return out;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------------------
// Output

const TITLES: Record<Finding['section'], (r: DoctorReport) => string> = {
  mode: (r) => `Mode: ${r.mode}`,
  project: () => 'Project',
  backends: (r) => `Backends of tenant ${r.tenant}'s grants`,
  safety: () => 'Safety',
};

export function formatReport(r: DoctorReport): string {
  const lines = [`outloop doctor: ${r.cwd}`];
  for (const section of ['mode', 'project', 'backends', 'safety'] as const) {
    const fs = r.findings.filter((f) => f.section === section);
    if (!fs.length) continue;
    lines.push('', TITLES[section](r));
    for (const f of fs) {
      lines.push(`  ${f.severity.padEnd(4)}  ${f.message}`);
      if (f.fix && f.severity !== 'ok') lines.push(`        fix: ${f.fix}`);
    }
  }
  lines.push('', `${r.summary.fail} fail, ${r.summary.warn} warn, ${r.summary.ok} ok${r.ok ? '' : ' (exit 1)'}`);
  return `${lines.join('\n')}\n`;
}
