import { randomInt } from 'node:crypto';

/**
 * Per-run stand-ins for credential values. A sentinel keeps the vendor's prefix (`sk_live_`, `ghp_`,
 * `xoxb-`, `AKIA`, ...) and, after it, the value's length and the class of each character (lower, upper,
 * digit; any other character kept as it is), so an SDK that checks the shape locally still starts; every
 * letter and digit after the prefix is drawn at random. It never equals the real value, never contains
 * it, and is new for every run and every secret, so it is worth nothing outside the run whose proxy
 * knows it.
 */
const PREFIXES = [
  'github_pat_', 'sk-ant-api03-', 'sk-ant-', 'sk-proj-', 'sk-svcacct-', 'sk_live_', 'sk_test_', 'rk_live_', 'rk_test_',
  'pk_live_', 'pk_test_', 'whsec_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'glpat-', 'xoxb-', 'xoxp-', 'xoxa-', 'xoxe-',
  'xapp-', 'npm_', 'hf_', 'dop_v1_', 'shpat_', 'SG.', 'AKIA', 'ASIA', 'AIza', 'sk-', 'pat', 'dapi',
];

/** Fewer random characters than this would make a sentinel guessable, or a chance match in traffic. */
export const MIN_RANDOM = 12;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGIT = '0123456789';

export function knownPrefix(value: string): string {
  return PREFIXES.find((p) => value.startsWith(p) && value.length > p.length) ?? '';
}

function classOf(c: string): string | undefined {
  if (c >= 'a' && c <= 'z') return LOWER;
  if (c >= 'A' && c <= 'Z') return UPPER;
  if (c >= '0' && c <= '9') return DIGIT;
  return undefined;
}

/** The sentinel for `real`, or why there cannot be one (too few letters and digits to randomize). */
export function makeSentinel(real: string): { ok: true; sentinel: string } | { ok: false; why: string } {
  const prefix = knownPrefix(real);
  const body = [...real.slice(prefix.length)];
  const random = body.filter((c) => classOf(c)).length;
  if (random < MIN_RANDOM) return { ok: false, why: `it has ${random} letters and digits after its prefix; a placeholder needs at least ${MIN_RANDOM}` };
  for (;;) {
    const s = prefix + body.map((c) => { const cls = classOf(c); return cls ? cls[randomInt(cls.length)]! : c; }).join('');
    if (s !== real && !s.includes(real) && !real.includes(s)) return { ok: true, sentinel: s };
  }
}
