export { literalsFor, plainLiteralsFor, collectLiterals, type Literal, type LiteralsFn, type SecretValue } from './literals.js';
export type { Matcher, MatcherFactory, Occurrence } from './matcher.js';
export { LiteralMatcher } from './literal-matcher.js';
export { QgramMatcher, chooseMatcher } from './qgram-matcher.js';
export { Redactor, type RedactorOptions } from './redactor.js';
export { IDLE_MS, pushParts, type RedactorStream } from './stream.js';
export { shortValueProblem, SHORT_VALUE_FLOOR, type ShortValueProblem } from './short-values.js';
export { IdleRelease } from './idle.js';
export type { PartialRule } from './regions.js';
