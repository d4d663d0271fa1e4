import { fingerprint, installKey } from '../audit/fingerprint.js';
import type { Config } from '../config/schema.js';
import { collectLiterals, Redactor, type PartialRule } from '../redact/index.js';
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
export async function armRedaction(secrets: ReadSecret[], redact: Config['redact'], scrubber: Scrubber, stateDir: string, caller?: CallerBytes): Promise<Redactor> {
  const { shapesLater } = await import('../redact/shapes/index.js');
  // Compiled at first use (about 1 ms): for exec, once its child has started (broker/sinks.ts).
  const redactor = new Redactor(secrets, { shapes: shapesLater(redact), partial: partialRuleFor(caller) });
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

/**
 * What of the redacted bytes the caller shaped, which decides where a held prefix of a value may be
 * masked (docs: "Partial values"). A masked prefix tells whoever chose the bytes that they start a
 * value, so it is masked only in bytes the caller did not choose:
 * - `all`: the caller supplies all of the input (`outloop redact`): whole values and whole forms only.
 * - `params`: exec output, which a recipe's API may shape from the parameters (an echoed name field).
 *   A held tail that lies inside one of the parameters, in any form the redactor looks for, is the
 *   caller's own text coming back and goes out as it is; any other tail is masked as before.
 * - none (`run`): the child holds the values and can print them in forms no redactor sees, so an
 *   oracle gives the caller nothing new; the rule stays for accidental leaks.
 */
export type CallerBytes = 'all' | { params: readonly string[] };

export function partialRuleFor(caller: CallerBytes | undefined): PartialRule {
  if (caller === undefined) return 'mask';
  if (caller === 'all') return 'off';
  const values = caller.params.filter((v) => v !== '');
  if (values.length === 0) return 'mask';
  const forms = collectLiterals(values.map((value) => ({ name: '', value }))).map((l) => l.bytes);
  return (tail) => !forms.some((f) => f.includes(tail));
}
