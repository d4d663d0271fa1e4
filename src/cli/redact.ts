import { assertedTenant } from './options.js';
import { fileStdin, handleRedact } from '../broker/redact.js';
import { cliDeps } from './deps.js';
import { printAttemptError } from './exec.js';
import type { CliOptions } from './main.js';

export interface RedactFlags {
  service?: string[];
  tenant?: string | undefined;
  quiet?: boolean;
}

export const REDACT_HELP = `
Reads stdin, writes it to stdout with every secret masked: in a project bound to a tenant, the values of
that tenant's grants (in every encoded form: base64, hex, URL, JSON, shell quoting, split by colour codes)
as [REDACTED:NAME]; everywhere, secret-shaped text (provider keys, JWTs, private keys, bearer headers,
passwords in URLs, high-entropy *_TOKEN= assignments) as [REDACTED:rule-id]. Outside every project it
applies the shape rules alone. Each use is audited (mode redact) with the number of redactions.

Examples:
  $ ./deploy.sh 2>&1 | outloop redact > deploy.log
  $ outloop redact < ci-output.txt | pbcopy
  $ kubectl logs api-7f9c | outloop redact --service stripe

Exit codes: 0; 64 usage; 69 a backend unavailable; 77 denied (wrong_tenant, service_not_granted, or
--tenant/--service outside every project); 78 invalid config; 141 the reader of stdout went away.`;

export async function redactCommand(o: RedactFlags, opts: CliOptions): Promise<number> {
  const deps = cliDeps(opts, { stdout: process.stdout, stderr: process.stderr });
  try {
    const outcome = await handleRedact(
      { services: o.service ?? [], assertedTenant: assertedTenant(o.tenant), input: fileStdin() ?? process.stdin, output: process.stdout },
      deps,
    );
    if (outcome.kind === 'denied') {
      const d = outcome.decision;
      process.stderr.write(`outloop: denied: ${d.reason} [${d.code}]\nnext: ${d.next}\n`);
      return outcome.exitCode;
    }
    // On stderr, so the filtered stream stays exactly the input minus secrets.
    if (!o.quiet && outcome.redactions > 0) {
      process.stderr.write(`outloop: ${outcome.redactions} redaction${outcome.redactions === 1 ? '' : 's'} (audit ${outcome.auditId})\n`);
    }
    return outcome.exitCode;
  } catch (err) {
    return printAttemptError(err, false);
  }
}
