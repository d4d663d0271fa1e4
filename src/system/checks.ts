import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemContext } from './mode.js';
import { systemPaths } from './paths.js';
import { coreDumpsAlreadyOff } from '../runner/spawn.js';

/** doctor's mode section. Each check of system mode, passed or failed, with what it stands for. */
export interface ModeCheck {
  check: string;
  severity: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

export const PERSONAL_LINE = 'personal: same user as the agent: guards against accidental leaks, not a hostile agent';

function owned(path: string, uid: number, notWritableBy: 'others' | 'group+others', maxMode?: number): string | undefined {
  try {
    const st = statSync(path);
    if (st.uid !== uid) return `${path} is owned by uid ${st.uid}, not ${uid}`;
    const mode = st.mode & 0o777;
    if (maxMode !== undefined && (mode & ~maxMode) !== 0) return `${path} has mode ${mode.toString(8)} (at most ${maxMode.toString(8)})`;
    if ((mode & (notWritableBy === 'others' ? 0o002 : 0o022)) !== 0) return `${path} is writable by ${notWritableBy === 'others' ? 'others' : 'group or others'}`;
    return undefined;
  } catch (err) {
    return `${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}


export function modeChecks(ctx: SystemContext | undefined): ModeCheck[] {
  if (!ctx) {
    return [{ check: 'mode', severity: 'ok', message: PERSONAL_LINE, fix: 'Against a hostile agent, use system mode: `sudo outloop system install` (see docs).' }];
  }
  const p = systemPaths(ctx.prefix);
  const me = process.getuid!();
  const out: ModeCheck[] = [{ check: 'mode', severity: 'ok', message: `system: outloopd under its own user (uid ${me}); the agent's uid cannot read its store or change its policy` }];
  const add = (check: string, problem: string | undefined, ok: string, fix: string) =>
    out.push(problem ? { check, severity: 'fail', message: problem, fix } : { check, severity: 'ok', message: ok });
  add('daemon-user', me === 0 ? 'the daemon runs as root' : undefined, `the daemon is not root (uid ${me})`, 'Run outloopd as its own user (the unit does).');
  add('caller', ctx.peer.uid === me ? `the caller runs as the daemon's own uid ${me}` : undefined, `the caller (uid ${ctx.peer.uid}, from SO_PEERCRED) is not the daemon's user`, 'Run the agent under its own user, not the daemon\'s.');
  add('config', owned(p.configFile, 0, 'group+others') ?? owned(p.etcDir, 0, 'group+others') ?? owned(p.recipesDir, 0, 'group+others'), `config and recipes are root-owned and not writable by others (${p.etcDir})`, `sudo chown -R root:root ${p.etcDir} && sudo chmod -R go-w ${p.etcDir}`);
  add('state', owned(p.stateDir, me, 'group+others', 0o700), `store, key, approvals and budgets are the daemon's alone (${p.stateDir}, 0700)`, `sudo outloop system install${ctx.prefix === '/' ? '' : ` --prefix ${ctx.prefix}`} (puts owners and modes back)`);
  add('audit', owned(p.logDir, me, 'group+others', 0o750), `the audit log is appended by the daemon only (${p.logDir})`, `sudo outloop system install${ctx.prefix === '/' ? '' : ` --prefix ${ctx.prefix}`}`);
  add('core-dumps', coreDumpsAlreadyOff() ? undefined : 'core dumps are allowed for the daemon (a crash could write its memory to disk)', 'core dumps are off (LimitCORE=0)', 'Start outloopd from the unit (LimitCORE=0), or with `ulimit -c 0`.');
  out.push(ctx.session
    ? { check: 'session', severity: 'ok', message: `this request is bound to the agent session of tenant ${ctx.session}` }
    : { check: 'session', severity: 'ok', message: 'no agent session: the working folder decides the tenant (a person binds one with `sudo outloop session --tenant T -- CMD`)' });
  // The chain's MAC key (derived from audit.key, made with the first record): the daemon's alone, or an
  // agent that could read it could rewrite the log and recompute the chain.
  const key = join(p.stateDir, 'audit.key');
  add('audit-chain', existsSync(key) ? owned(key, me, 'group+others', 0o600) : undefined,
    `the audit chain is keyed (HMAC under ${key}, the daemon's alone): the agent's uid can neither recompute nor forge it`,
    `sudo outloop system install${ctx.prefix === '/' ? '' : ` --prefix ${ctx.prefix}`} (puts owners and modes back)`);
  return out;
}
