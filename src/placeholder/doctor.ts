import { statSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { caFile } from './ca.js';

/**
 * doctor's placeholder line. Shown when a grant uses placeholders or the CA exists. In personal mode the
 * CA key is a file of the user the agent runs as, and outloop itself runs as that user: say plainly what
 * that leaves open, instead of letting a person believe placeholders stop a hostile agent here.
 */
export function placeholderFinding(stateDir: string, config: Config | undefined, uid = process.getuid?.()): { severity: 'ok' | 'warn' | 'fail'; message: string; fix?: string } | undefined {
  const file = caFile(stateDir);
  let st;
  try {
    st = statSync(file);
  } catch {
    st = undefined;
  }
  const grants = Object.entries(config?.tenants ?? {}).flatMap(([t, c]) => Object.entries(c.services).filter(([, g]) => g.placeholder).map(([s]) => `${t}.${s}`));
  if (!st && !grants.length) return undefined;
  if (st && (st.mode & 0o077) !== 0) return { severity: 'fail', message: `the placeholder CA key ${file} is open to other users (mode ${(st.mode & 0o777).toString(8)})`, fix: `chmod 600 ${file}` };
  const mine = st === undefined || st.uid === uid;
  if (!mine) return { severity: 'ok', message: `placeholders: the CA key ${file} belongs to another user (the daemon's), out of this user's reach` };
  return {
    severity: 'warn',
    message:
      `placeholders (personal mode${grants.length ? `; used by ${grants.join(', ')}` : ''}): the CA key ${st ? file : `(created on first use) ${file}`} is readable by this user, ` +
      'and so by an agent running as you: it can mint certificates every placeholder child trusts, and read a running outloop\'s memory (ptrace, /proc/PID/mem) where the real values are. ' +
      'Here placeholders stop leaks (a child that prints, transforms, stores or keeps a value gets only a sentinel), not a hostile agent on your account',
    fix: 'For a hostile agent, use system mode: the daemon keeps the CA key and the values under its own user.',
  };
}
