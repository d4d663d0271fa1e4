import { UsageError } from '../errors.js';
import type { EnvFileRef } from '../policy/run.js';
import { looksLikeSecret } from '../redact/shapes/index.js';
import { refProblem } from '../secrets/ref.js';

/**
 * The environment of a command wrapped by `outloop run`: pure functions of the parent environment and
 * what the broker read. A wrapped script expects the user's environment (PATH, HOME, its own settings),
 * unlike a recipe, which starts from nothing (runner/env.ts). What it must not get is a credential that
 * happens to sit in the agent's environment: the only secrets it sees are the ones policy granted.
 *
 * Stripped from the parent environment, before the granted secrets are added:
 *   - by name (case-insensitive): names ending in _TOKEN, _KEY, _SECRET, _PASS, _PAT, _PWD,
 *     _CREDENTIAL(S), _AUTH, _APIKEY, _DSN, _COOKIE, _CONNECTION_STRING (or exactly one of those words),
 *     names ending in PASSWORD, PASSWD or PASSPHRASE with or without `_` (PGPASSWORD), names containing
 *     _SECRET_ (AWS_SECRET_ACCESS_KEY), AWS_ACCESS_KEY_ID (half of a pair) and OP_SESSION_* (a live
 *     1Password CLI session);
 *   - by value: a value matching a secret shape rule (provider key formats, private keys; see
 *     `looksLikeSecretValue`) or a URL carrying a password (`postgres://user:pass@host/db`).
 * Everything else passes unchanged, including locale, terminal, PATH, HOME and SSH_AUTH_SOCK (a socket,
 * not a value).
 */
// PASSWORD, PASSWD and PASSPHRASE also glued to a prefix (PGPASSWORD); PWD only after `_` (MYSQL_PWD), as
// PWD and OLDPWD are folders; OP_SESSION_<account> is a live 1Password CLI session.
const SECRET_NAME = /(?:^|_)(?:TOKEN|KEY|SECRET|PASS|PAT|CREDENTIALS?|AUTH|APIKEY|DSN|COOKIE|CONNECTION_STRING)$|_PWD$|(?:PASSWORD|PASSWD|PASSPHRASE)$|_SECRET_|^AWS_ACCESS_KEY_ID$|^OP_SESSION_/;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i;

export function secretLikeName(name: string): boolean {
  return SECRET_NAME.test(name.toUpperCase());
}

/**
 * The one place `outloop run` asks whether a value looks like a secret: the same rule set that redacts
 * output and that doctor reports with (redact/shapes), so what is stripped and what is masked agree.
 * Returns the rule id (or 'url-password'), never any part of the value.
 */
export function looksLikeSecretValue(value: string): string | undefined {
  return looksLikeSecret(value) ?? (URL_WITH_PASSWORD.test(value) ? 'url-password' : undefined);
}

export interface RunEnv {
  env: Record<string, string>;
  /** Names removed from the parent environment (never their values), for the audit record. */
  stripped: string[];
}

export function runEnv(parent: NodeJS.ProcessEnv, injected: Record<string, string>, plain: Record<string, string> = {}): RunEnv {
  const env: Record<string, string> = {};
  const stripped: string[] = [];
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (secretLikeName(k) || looksLikeSecretValue(v)) stripped.push(k);
    else env[k] = v;
  }
  return { env: { ...env, ...plain, ...injected }, stripped: stripped.sort() };
}

export interface EnvFile {
  refs: EnvFileRef[];
  /** Lines holding plain, non-secret values (PORT=3000), set as they are (policy still checks the names). */
  plain: { name: string; value: string; at: string }[];
}

/**
 * An `op run --env-file`-style file: `NAME=reference` lines (`op://...`, `local:...`, any known backend)
 * become secrets read after policy allows them; `NAME=value` lines with an ordinary value pass as plain
 * variables; a value that looks like a secret is refused (it belongs in a backend, not in the file).
 * `#` comments, blank lines, `export NAME=...` and single or double quotes around the value are accepted.
 * Messages name the file and line, never a value.
 */
export function parseEnvFile(text: string, file: string): EnvFile {
  const refs: EnvFileRef[] = [];
  const plain: EnvFile['plain'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const at = `${file}:${i + 1}`;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new UsageError(`${at}: not a NAME=reference line`, { code: 'bad_env_file', next: 'Write one NAME=op://vault/item/field or NAME=local:tenant/name per line.' });
    const name = m[1]!;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) value = value.slice(1, -1);
    if (!refProblem(value)) {
      refs.push({ name, ref: value, at });
      return;
    }
    const shape = looksLikeSecretValue(value);
    if (shape || (secretLikeName(name) && value !== '')) {
      throw new UsageError(`${at}: ${name} holds ${shape ?? 'a value under a secret-like name'} instead of a reference`, {
        code: 'secret_in_env_file',
        next: `Store it with \`outloop secrets import ${file} --service SERVICE\` (or \`outloop secrets set\`), bind it in config.yaml, and write ${name}=<reference> in the file.`,
      });
    }
    plain.push({ name, value, at });
  });
  return { refs, plain };
}
