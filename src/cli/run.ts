import { handleRun, type RunOutcome } from '../broker/run.js';
import { UsageError } from '../errors.js';
import { cliDeps } from './deps.js';
import { printAttemptError } from './exec.js';
import type { CliOptions } from './main.js';
import { printError, writeJson } from './output.js';

export interface RunFlags {
  service?: string[];
  tenant?: string | undefined;
  /** true: --pty, false: --no-pty, undefined: a pseudo-terminal exactly when stdout is one. */
  pty?: boolean | undefined;
  envFile?: string | undefined;
  placeholders?: boolean;
  json?: boolean;
}

export const RUN_HELP = `
The command runs in this folder with your environment, minus every variable whose name or value looks
like a secret (names ending in _TOKEN, _KEY, _SECRET, _PASSWORD, _PAT, _CREDENTIALS, ...; values shaped
like provider keys or URLs with a password), plus each service's secrets under their names in config.yaml.
Its output is redacted, on a terminal too. Each grant needs run: true (tenants.T.services.S.run).

On a terminal (or with --pty) the command gets a pseudo-terminal: colours, prompts, line editing and
full-screen programs work, Ctrl-C reaches it once. Otherwise (or with --no-pty) stdout and stderr stay
separate pipes and stdin passes through. The exit code is the command's own (128+N for signal N).

Refused before anything is read (exit 77, code reveal_command): commands that only show the values, such
as env, printenv, export -p, cat .env, echo $STRIPE_KEY, sh -c 'env'.

--placeholders (or placeholder: true on a grant): the command gets a per-run placeholder shaped like each
value (sk_live_..., ghp_...), never the value; outloop's egress proxy ends TLS to the service's own hosts
(the CA is in the bundle that SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and
GIT_SSL_CAINFO name) and puts the value in there only. A placeholder sent anywhere else is refused.

--env-file FILE: lines NAME=op://vault/item/field or NAME=local:tenant/name (as with op run --env-file);
each reference must be one the named grants bind. Plain NAME=value lines pass as they are unless the
value looks like a secret.

Examples:
  $ outloop run --service stripe -- ./deploy.sh --prod
  $ outloop run --service stripe --service github -- npm run sync
  $ outloop run --service stripe --env-file .env.refs -- python export.py
  $ outloop run --service stripe --no-pty -- ./report.sh > report.txt

Exit codes: the command's own; 64 usage; 69 backend unavailable; 77 denied (run_not_allowed, reveal_command,
env_ref_not_granted, wrong_tenant, ...); 78 a binding outloop run never injects (unsafe_env_name, e.g.
LD_PRELOAD, NODE_OPTIONS) or one name bound twice; 127 command not found.`;

export async function runCommand(argv: string[], o: RunFlags, opts: CliOptions): Promise<number> {
  const json = Boolean(o.json);
  const services = o.service ?? [];
  try {
    if (!services.length) throw new UsageError('outloop run needs at least one --service', { next: 'e.g. outloop run --service stripe -- ./deploy.sh' });
    if (!argv.length) throw new UsageError('outloop run needs a command after --', { next: 'e.g. outloop run --service stripe -- ./deploy.sh' });
  } catch (err) {
    return printError(err, json);
  }
  const pty = o.pty ?? (!json && Boolean(process.stdout.isTTY));
  const deps = cliDeps(opts, json ? 'collect' : { stdout: process.stdout, stderr: process.stderr });
  let outcome: RunOutcome;
  try {
    outcome = await handleRun({ services, argv, assertedTenant: o.tenant === '' ? undefined : o.tenant, envFile: o.envFile, pty, placeholders: Boolean(o.placeholders) }, deps);
  } catch (err) {
    return printAttemptError(err, json);
  }
  if (outcome.kind === 'denied') {
    const d = outcome.decision;
    if (json) writeJson({ ok: false, decision: 'deny', code: d.code, reason: d.reason, next: d.next, auditId: outcome.auditId });
    else process.stderr.write(`outloop: denied: ${d.reason} [${d.code}]\nnext: ${d.next}\n`);
    return outcome.exitCode;
  }
  if (json) {
    writeJson({ ok: outcome.exitCode === 0, decision: 'allow', exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr, redactions: outcome.redactions, auditId: outcome.auditId });
  }
  return outcome.exitCode;
}
