import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Exit, OutloopError } from '../errors.js';
import type { Homes } from '../paths.js';
import type { Plan } from '../policy/decide.js';
import { placeholders, render } from '../recipe/template.js';
import { createRunDir } from '../runner/workdir.js';
import type { ChildSpec } from '../runner/spawn.js';
import { findExecutable, resolveSystemCommand } from '../runner/which.js';
import { BWRAP_SHIELD, defaultSignalEnv, inPidNamespace } from '../runner/contain.js';
import { bwrapArgv, programDirs, SUPPORT_MOUNT, systemMounts } from './bwrap.js';
import { detectSandbox, probeCacheFile } from './detect.js';
import { networkNotes, type NetworkNote } from './egress-notes.js';
import { pickForwarder, proxyEnv } from './forwarder.js';
import { DEFAULT_MAX_OUTPUT, OutputCap, type CappedInner } from './limits.js';
import type { Sink } from '../runner/sink.js';
import type { EgressProxy, Lookup } from './proxy.js';
import { seatbeltArgv, seatbeltProfile } from './seatbelt.js';
import type { OutputStream } from '../util/output-stream.js';

/**
 * The broker's one hook into the sandbox: given the plan and the child as the runner would start it,
 * return the child as it must really start (inside bwrap or sandbox-exec, behind the egress proxy, under
 * its memory limit), sinks that enforce maxOutput, and, when the run is over, the audit fields.
 */
/**
 * What the sandbox needs to know about one run, whatever started it: an exec plan (targetFromPlan), or
 * `outloop run` wrapping a command for one or more services (hosts joined, no recipe folder).
 */
export interface SandboxTarget {
  /** Named in refusals and notes: `service.recipe`, or the services of a `run`. */
  label: string;
  hosts: string[];
  mode: Plan['sandbox']['mode'];
  /** The policy's machine fact; false means no sandbox even if one turned up since. */
  available: boolean;
  /** Folders shown to the child beyond the system, already rendered. */
  paths: { path: string; mode: 'ro' | 'rw' }[];
  maxOutput?: number | undefined;
  maxMemory?: number | undefined;
  /** Where to fix a bad path (the recipe file). */
  source?: string;
  /**
   * A placeholder run: the child holds sentinels, and the proxy ends TLS to these secrets' hosts to put
   * the values in (tls-intercept.ts). `open`: unsandboxed `outloop run`, whose other traffic passes as before.
   */
  placeholders?: { secrets: import('../placeholder/substitute.js').PlaceholderSecret[]; open?: boolean };
}

export function targetFromPlan(plan: Plan): SandboxTarget {
  const recipe = plan.recipe;
  const values = { params: plan.params, secret: () => '', tenant: plan.tenant, project: plan.project, recipeDir: recipe.dir };
  return {
    label: `${plan.service}.${recipe.name}`,
    hosts: recipe.hosts,
    mode: plan.sandbox.mode,
    available: plan.sandbox.available,
    paths: [
      // An API script sits beside its recipe: a recipe that names its folder sees it, read-only.
      ...(usesRecipeDir(recipe) ? [{ path: recipe.dir, mode: 'ro' as const }] : []),
      ...(recipe.sandboxPaths ?? []).map((p) => ({ path: render(p.path, values), mode: p.mode })),
    ],
    maxOutput: recipe.maxOutput,
    maxMemory: recipe.maxMemory,
    source: recipe.file,
  };
}

export interface SandboxRunInput {
  target: SandboxTarget;
  spec: ChildSpec;
  homes: Homes;
  /** outloop's PATH, where bwrap is looked up (the same lookup the policy fact came from). */
  path: string | undefined;
  lookup?: Lookup | undefined;
  /** The real home folder, masked should any bound folder contain it. */
  userHome?: string | undefined;
  platform?: NodeJS.Platform;
}

export interface SandboxAudit {
  sandbox: 'bwrap' | 'seatbelt' | 'none';
  sandboxMode: Plan['sandbox']['mode'];
  /** True only when the child cannot reach anything but the proxy. */
  egressEnforced: boolean;
  egress?: import('./proxy.js').EgressRecord[];
  egressDropped?: number;
  /** Placeholder runs: each value put in on the wire, by secret, host and surface (never a value). */
  substitutions?: { secret: string; host: string; surface: string; count: number }[];
  truncated?: true;
}

export interface SandboxedRun {
  spec: ChildSpec;
  sinks(s: { stdout: CappedInner; stderr: CappedInner }): { stdout: Sink; stderr: Sink };
  /** Stop the proxy, clean up, write the truncation note (streaming), and give the audit fields. */
  /** `stderr` gives where a note goes (called only when there is one). */
  finish(stderr: (() => OutputStream) | undefined, scrub: (s: string) => string): Promise<SandboxAudit>;
  readonly truncated: boolean;
  /** After finish: what the proxy refused or could not reach, with the next step (egress-notes.ts). */
  readonly network: NetworkNote[];
}

function usesRecipeDir(r: Plan['recipe']): boolean {
  const ts = [...r.run, ...Object.values(r.env), ...Object.values(r.files), ...(r.stdin ? [r.stdin] : [])];
  return ts.some((t) => placeholders(t).some((p) => p.ns === 'recipe.dir'));
}

function memoryWrap(argv: string[], bytes: number | undefined): string[] {
  if (!bytes) return argv;
  // RLIMIT_AS in KiB; the shell only sets it and is replaced by the command, argv stays a list.
  return ['/bin/sh', '-c', 'ulimit -v "$1" || exit 70; shift; exec "$@"', 'outloop-limit', String(Math.max(1, Math.floor(bytes / 1024))), ...argv];
}

export async function sandboxRun(input: SandboxRunInput): Promise<SandboxedRun> {
  const { target, homes } = input;
  const platform = input.platform ?? process.platform;
  const label = target.label;
  const cap = new OutputCap(target.maxOutput ?? DEFAULT_MAX_OUTPUT);
  const mode = target.mode;
  const argv = memoryWrap(input.spec.argv, target.maxMemory);
  const cleanup: (() => void | Promise<void>)[] = [];
  let proxy: EgressProxy | undefined;
  let kind: SandboxAudit['sandbox'] = 'none';
  let spec: ChildSpec = { ...input.spec, argv };

  // The same cached probe as the broker's (sandboxFact): an `auto` exec must not start a probe bwrap each time.
  const fact = mode === 'off' || !target.available ? undefined : detectSandbox(input.path, platform, probeCacheFile(homes.stateDir));
  // Without the sandbox, a child that asks for containment (exec) still gets a pid namespace where bwrap can
  // make one (runner/contain.ts): the same cached probe, so it costs no extra process.
  const contain = input.spec.contain && platform === 'linux' && !(fact?.available && fact.kind === 'bwrap')
    ? (fact ?? detectSandbox(input.path, platform, probeCacheFile(homes.stateDir)))
    : undefined;
  const ph = target.placeholders;
  const needNet = (target.hosts.length > 0 && mode !== 'off') || ph !== undefined;
  const cmd = findExecutable(input.spec.argv[0]!, input.spec.env.PATH, input.spec.cwd);
  const missing = target.paths.find((d) => !isAbsolute(d.path) || !existsSync(d.path));
  if (fact?.available && missing) {
    throw new OutloopError('sandbox_path_missing', Exit.config, `${label} declares sandbox path ${missing.path}, which does not exist (or is not absolute)`, {
      next: `Create it, or fix sandbox.paths${target.source ? ` in ${target.source}` : ''}.`,
    });
  }
  try {
    // The proxy (node:http, net, dns) loads only for a recipe that has hosts to reach.
    // The CA, the TLS code and the swap load only for a placeholder run.
    const pl = ph ? await (await import('./tls-placeholder.js')).placeholderProxy(ph, homes.stateDir) : undefined;
    if (needNet) {
      proxy = new (await import('./proxy.js')).EgressProxy({ hosts: target.hosts, label, lookup: input.lookup, hooks: pl?.hooks, open: Boolean(ph?.open) && !fact?.available });
    }
    // Outside bwrap the child's bundle sits in a run folder of its own (seatbelt is shown it).
    let bundleDir: string | undefined;
    if (pl && !(fact?.available && fact.kind === 'bwrap')) {
      const dir = createRunDir(pl.files);
      cleanup.push(() => dir.remove());
      bundleDir = dir.path;
      spec = { ...spec, env: { ...spec.env, ...pl.env(dir.path, spec.env.NODE_OPTIONS) } };
    }
    if (fact?.available && fact.kind === 'bwrap') {
      kind = 'bwrap';
      // perl when the system has one only root can change (a few ms), else a second node (45-80 ms).
      const fwd = proxy ? pickForwarder(resolveSystemCommand('perl'), process.execPath) : undefined;
      // Only a run with something to show there gets the support folder (one mkdir, rmdir and bind fewer).
      const supportFiles = { ...(fwd ? { [fwd.file]: fwd.source } : {}), ...(pl ? pl.files : {}) };
      const support = fwd || pl ? createRunDir(supportFiles) : undefined;
      if (support) cleanup.push(() => support.remove());
      if (pl) spec = { ...spec, env: { ...spec.env, ...pl.env(SUPPORT_MOUNT, spec.env.NODE_OPTIONS) } };
      let inner: string[];
      if (proxy && fwd && support) {
        await proxy.listen({ path: join(support.path, 'proxy.sock') });
        inner = [...fwd.argv(SUPPORT_MOUNT), `${SUPPORT_MOUNT}/proxy.sock`, '--', ...argv];
      } else {
        inner = [...defaultSignalEnv(), ...argv];
      }
      const declared = target.paths;
      const extra = [...programDirs([process.execPath, ...(cmd ? [cmd] : [])]).map((path) => ({ path, mode: 'ro' as const })), ...declared];
      // Outloop's own folders are never shown; the real home only when the recipe declares that very folder.
      const home = input.userHome && !declared.some((d) => d.path === input.userHome) ? [input.userHome] : [];
      spec = {
        ...spec,
        namespaced: true,
        argv: [...BWRAP_SHIELD, fact.path, ...bwrapArgv({ system: systemMounts(), extra, runDir: spec.cwd, ...(support ? { supportDir: support.path } : {}), protect: [homes.configDir, homes.stateDir, ...home], inner })],
      };
    } else if (fact?.available && fact.kind === 'seatbelt') {
      kind = 'seatbelt';
      const url = proxy ? await proxy.listen({ host: '127.0.0.1', port: 0 }) : undefined;
      const profile = seatbeltProfile({
        runDir: spec.cwd,
        extra: [...target.paths, ...(bundleDir ? [{ path: bundleDir, mode: 'ro' as const }] : [])],
        programDirs: programDirs([process.execPath, ...(cmd ? [cmd] : [])], ['/usr', '/bin', '/sbin']),
        proxyPort: url ? Number(new URL(url).port) : undefined,
      });
      spec = { ...spec, argv: seatbeltArgv(profile, argv), env: { ...spec.env, ...(url ? proxyEnv(url) : {}) } };
    } else if (proxy) {
      // No sandbox: the child is asked, not made, to use the proxy.
      const url = await proxy.listen({ host: '127.0.0.1', port: 0 });
      spec = { ...spec, env: { ...spec.env, ...proxyEnv(url) } };
    }
    if (kind === 'none' && contain?.available && contain.kind === 'bwrap') spec = { ...spec, namespaced: true, argv: inPidNamespace(contain.path, spec.argv) };
  } catch (err) {
    await proxy?.close().catch(() => {});
    for (const c of cleanup) await c();
    throw err;
  }

  let network: NetworkNote[] = [];
  return {
    spec,
    sinks: (s) => ({ stdout: cap.wrap(s.stdout), stderr: cap.wrap(s.stderr) }),
    get truncated() {
      return cap.truncated;
    },
    get network() {
      return network;
    },
    async finish(stderr, scrub) {
      const rec = proxy?.records();
      await proxy?.close().catch(() => {});
      for (const c of cleanup) await c();
      if (cap.truncated && stderr) stderr().write(`outloop: ${label} wrote more than ${cap.max} bytes (maxOutput); the child was stopped and its output truncated.\n`);
      const egress = rec?.egress.map((e) => ({ ...e, host: scrub(e.host), ...(e.reason === undefined ? {} : { reason: scrub(e.reason) }) }));
      if (egress) network = networkNotes(egress, { label, hosts: target.hosts, source: target.source });
      return {
        sandbox: kind,
        sandboxMode: mode,
        egressEnforced: kind !== 'none' && mode !== 'off',
        ...(rec
          ? {
              egress,
              ...(rec.egressDropped ? { egressDropped: rec.egressDropped } : {}),
              ...(rec.substitutions ? { substitutions: rec.substitutions } : {}),
            }
          : {}),
        ...(cap.truncated ? { truncated: true as const } : {}),
      };
    },
  };
}
