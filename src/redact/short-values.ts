/**
 * Values too short to mask safely. The engine never skips a value: every occurrence of even a one-byte
 * value is masked (mangling ordinary output is better than leaking it). What a short value loses is the
 * partial rules: a prefix shorter than the end/pause threshold goes out as-is, and derived forms under
 * MIN_FORM_BYTES are not looked for. So a short value is reported, for `recipes lint`, `doctor` and the
 * broker to warn about (or refuse), through this one pure check.
 */
export const SHORT_VALUE_FLOOR = 4;
/** GitLab refuses to mask below 8; below it a value is also cheap to guess from a partial print. */
export const WEAK_VALUE_BYTES = 8;

export interface ShortValueProblem {
  /** too_short: under SHORT_VALUE_FLOOR bytes, every occurrence of it in any output is masked; short: under 8. */
  code: 'too_short' | 'short';
  bytes: number;
  message: string;
}

export function shortValueProblem(value: string): ShortValueProblem | undefined {
  return shortLengthProblem(Buffer.byteLength(value, 'utf8'));
}

/**
 * The same check from a length alone: `outloop doctor` knows a local-store value's length from its sealed
 * entry (AES-GCM keeps the length) and so can warn without decrypting anything.
 */
export function shortLengthProblem(bytes: number): ShortValueProblem | undefined {
  if (bytes === 0 || bytes >= WEAK_VALUE_BYTES) return undefined;
  if (bytes < SHORT_VALUE_FLOOR) {
    return {
      code: 'too_short',
      bytes,
      message: `the value is ${bytes} byte${bytes === 1 ? '' : 's'} long: too short to mask safely; every occurrence of those bytes in the output is masked, so ordinary output will be mangled (use a value of at least ${WEAK_VALUE_BYTES} bytes)`,
    };
  }
  return {
    code: 'short',
    bytes,
    message: `the value is ${bytes} bytes long: it is masked, but a partial print of it may pass and it is easy to guess (use at least ${WEAK_VALUE_BYTES} bytes)`,
  };
}
