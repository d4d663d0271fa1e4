import { fingerprint, installKey } from '../audit/fingerprint.js';
import type { Config } from '../config/schema.js';
import { Redactor } from '../redact/index.js';
import { shortValueProblem } from '../redact/short-values.js';
import type { Scrubber } from './exec.js';
import type { ReadSecret } from './secrets.js';

/**
 * The moment an allowed attempt has read its values: build its redactor (the values in all their forms,
 * plus the secret-shape rules as config.yaml's `redact:` adjusts them) and arm the scrubber with it, so
 * every string outloop itself writes from now on (error text, the end record) is masked like the output,
 * the record carries each value's fingerprint, and a value too short to mask well is named in it.
 * One function for exec, run and redact, so the three never disagree on what is masked. The rule set
 * loads here, after policy allowed the attempt: a denial or a check never pays for it.
 */
export async function armRedaction(secrets: ReadSecret[], redact: Config['redact'], scrubber: Scrubber, stateDir: string): Promise<Redactor> {
  const { shapesFor } = await import('../redact/shapes/index.js');
  const redactor = new Redactor(secrets, { shapes: shapesFor(redact) });
  scrubber.scrub = (text) => redactor.redactString(text);
  if (secrets.length) {
    const key = installKey(stateDir);
    scrubber.secrets = secrets.map((s) => ({ name: s.name, ref: s.ref, fingerprint: fingerprint(key, s.value) }));
  }
  const short = secrets.flatMap((s) => {
    const p = shortValueProblem(s.value);
    return p ? [{ name: s.name, code: p.code, bytes: p.bytes }] : [];
  });
  if (short.length) scrubber.shortSecrets = short;
  return redactor;
}
